import { daysNeeded } from '../../predict/dataset.ts'
import { MODELS, PREDICT_DEFAULTS } from '../../predict/predict-options.ts'
import type { Logger } from '../../logger.ts'
import type { ServerConfig } from '../config.ts'

/**
 * Says at start when the warehouse keeps too few days for the daily models to train (seed 004's
 * retention is 3 days; the 7-day models need 22 with the defaults, the 30-day one 45): better a
 * line in the log now than "not trained" in every run record later.
 */
export function warnShortHistory(config: ServerConfig, logger: Logger): void {
  if (!config.predict.enabled || !config.warehouse) return
  const short = Object.entries(MODELS).filter(([, m]) => config.retentionDays < daysNeeded(m.horizonDays, PREDICT_DEFAULTS))
  if (short.length === 0) return
  logger.warn(
    { retentionDays: config.retentionDays, models: short.map(([name, m]) => `${name} needs ${daysNeeded(m.horizonDays, PREDICT_DEFAULTS)} days`) },
    'the warehouse keeps fewer days than the daily prediction models need: raise --retention-days (docs/predictions.md)',
  )
}
