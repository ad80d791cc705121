import type { Logger } from '../../logger.ts'
import type { PartitionEngine } from '../partition-engine.ts'
import { HistoryFill, type BackfillJob, type BackfillProgress, type HistorySource } from './backfill-job.ts'

/**
 * Fills the job's aggregates from history, source after source (the warehouse for what it holds,
 * then the log), adds them to the tenant's users in the partition, and evaluates those users at the
 * watermark: the new segments' members enter now. The partition reads no record meanwhile, so no
 * event after the cut can meet a half-filled aggregate (docs/tenancy.md, "Backfill on creation").
 *
 * A source that fails is logged and its rows are dropped: the history is read again from the start
 * by the sources after it (the log, for what it still holds).
 */
export async function runBackfill(job: BackfillJob, engine: PartitionEngine, sources: readonly HistorySource[], progress: BackfillProgress, logger?: Logger): Promise<void> {
  const rules = engine.rulesOf(job.tenant)
  const fill = new HistoryFill(engine.tenants.get(job.tenant), engine.runtimeOf(job.tenant), job)
  let from = 0
  for (const source of sources) {
    try {
      from = await source.read(job, rules, from, fill.visit, progress)
    } catch (err) {
      progress.error = `${source.name}: ${err instanceof Error ? err.message : String(err)}`
      logger?.error({ err, partition: job.partition, tenant: job.tenant, version: job.version, source: source.name }, 'backfill source failed; history is read again from the sources after it')
      fill.clear()
      from = 0
      progress.rows = { warehouse: 0, log: 0 }
    }
  }
  progress.users = fill.filled()
  engine.reevaluateTenant(job.tenant)
  progress.finishedAt = Date.now()
}
