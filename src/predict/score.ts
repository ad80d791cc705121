import type { EventsFormat } from '../events/events-format.ts'
import type { CallGate, RunConnection } from './call-gate.ts'
import { PREDICTION_EVENT, PREDICTION_SCORES, PREDICTION_VERSION_FIELD, type PredictionScore, type TrackedEvent } from '../events/index.ts'
import { appendEvents } from '../ingest/append-events.ts'
import type { EventLog } from '../log/event-log.ts'
import { scoringPairs, streamPairs } from './dataset.ts'
import { featureNames } from './features.ts'
import { scorer } from './models.ts'
import type { PredictOptions } from './predict-options.ts'
import type { TenantTraining } from './train.ts'

/** Users scored and their prediction events appended at once: one durable append per partition each, and the features held. */
const EVENTS_PER_APPEND = 10_000

/** Where a scoring run's events go: the log, its partition count, the run's time and name. */
export interface ScoreTarget {
  readonly log: EventLog
  readonly partitions: number
  /** How the prediction events are stored; the library default when absent. */
  readonly format?: EventsFormat
  /** The events' `ts` (and the traits' `predicted.scored_at`). */
  readonly scoredAt: number
  /** `model_version`: the training run whose models scored. */
  readonly modelVersion: string
  /** The run's gate (./call-gate.ts): every append passes through it. */
  readonly gate: CallGate
  /** Told after each append, with the events appended so far. */
  readonly onAppended?: (appended: number) => void
}

/**
 * Scores every user of the tenant active in the lookback before day `cutoff` with the tenant's
 * published models and appends one prediction event each (src/events/prediction.ts): a model not
 * published writes null, so its trait is cleared. Returns the events appended; none when the tenant
 * has no published model (its traits keep what the last run that published gave them).
 */
export async function scoreTenant(conn: RunConnection, tenant: string, training: TenantTraining, cutoff: number, o: PredictOptions, target: ScoreTarget): Promise<number> {
  const published = PREDICTION_SCORES.filter((s) => training.models[s].status === 'published' && training.models[s].model !== null)
  if (published.length === 0) return 0
  const names = featureNames(training.mix, o.mixEvents)
  await scoringPairs(conn, tenant, cutoff, o)
  const receivedAt = Date.now()
  let appended = 0
  await streamPairs(conn, tenant, names.length, o, null, EVENTS_PER_APPEND, async (ds) => {
    const hasWealth = ds.features[names.indexOf('has_wealth')]!
    const scores = published.map((s) => [s, scorer(training.models[s].model!, ds.features)] as const)
    const batch: TrackedEvent[] = []
    for (let r = 0; r < ds.rows; r++) {
      const properties: Record<PredictionScore | typeof PREDICTION_VERSION_FIELD, number | string | null> = {
        purchase_7d: null,
        churn_7d: null,
        wealth_30d: null,
        [PREDICTION_VERSION_FIELD]: target.modelVersion,
      }
      for (const [s, score] of scores) {
        // Wealth is a game player's: users with no player_wealth get none.
        if (s === 'wealth_30d' && hasWealth[r] !== 1) continue
        properties[s] = round(score(r))
      }
      batch.push({
        event: PREDICTION_EVENT,
        user_id: ds.users[r]!,
        ts: target.scoredAt,
        event_id: `${target.modelVersion}:${target.scoredAt}:${appended + r}`,
        tenant,
        received_at: receivedAt,
        properties,
      })
    }
    await target.gate.pass(() => appendEvents(target.log, batch, target.partitions, target.format))
    appended += batch.length
    target.onAppended?.(appended)
  })
  return appended
}

/**
 * Six significant digits: a score is no more precise, and shorter records cost less everywhere. A
 * score that is not a finite number (a user's values past what the fit can hold) is none: null.
 */
function round(v: number): number | null {
  return Number.isFinite(v) ? Number(v.toPrecision(6)) : null
}
