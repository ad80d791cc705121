import type { EventLog } from '../../log/event-log.ts'
import type { Logger } from '../../logger.ts'
import type { EngineOptions } from '../engine-options.ts'
import type { PartitionEngine } from '../partition-engine.ts'
import type { RulesRecord } from '../rules-record.ts'
import type { BackfillJob, BackfillProgress, HistorySource } from './backfill-job.ts'
import { LogHistory } from './log-history.ts'
import { runBackfill } from './run-backfill.ts'
import { WarehouseHistory } from './warehouse-history.ts'

/**
 * One partition's backfills (docs/tenancy.md, "Backfill on creation"). A rules record that adds
 * aggregates makes a job; the partition worker stops reading at that record and runs it before the
 * next. A change that adds none re-evaluates the tenant's users at once.
 */
export class PartitionBackfills {
  /** The job waiting to run, or running. */
  private pending: BackfillJob | null = null
  /** Each tenant's last job here (the running one's while it runs). */
  private readonly byTenant = new Map<string, BackfillProgress>()
  private readonly sources: HistorySource[]

  constructor(
    log: EventLog,
    options: EngineOptions,
    /** The warehouse directory, when this process can read it; null: the log alone. */
    warehouseRoot: string | null,
    private readonly logger?: Logger,
  ) {
    this.sources = [...(warehouseRoot === null ? [] : [new WarehouseHistory(warehouseRoot, log, options)]), new LogHistory(log)]
  }

  progressOf(tenant: string): BackfillProgress | null {
    return this.byTenant.get(tenant) ?? null
  }

  /** A job is waiting: the worker reads no further record until it has run. */
  get waiting(): boolean {
    return this.pending !== null
  }

  /** After the engine applied a rules record at `offset`, adding the aggregates `fresh` (their indexes). */
  afterRules(engine: PartitionEngine, r: RulesRecord, fresh: readonly number[], offset: number): void {
    // A partition that has seen no event has no history, and no users to evaluate.
    if (fresh.length === 0 || !Number.isFinite(engine.watermark)) return engine.reevaluateTenant(r.tenant)
    this.pending = { tenant: r.tenant, version: r.version, partition: engine.partition, cut: offset, at: engine.watermark, metrics: [...fresh] }
  }

  async run(engine: PartitionEngine): Promise<void> {
    const job = this.pending
    if (job === null) return
    const progress: BackfillProgress = {
      tenant: job.tenant,
      version: job.version,
      partition: job.partition,
      rows: { warehouse: 0, log: 0 },
      warehouseUpTo: 0,
      startedAt: Date.now(),
      finishedAt: null,
      users: 0,
      error: null,
    }
    this.byTenant.set(job.tenant, progress)
    await runBackfill(job, engine, this.sources, progress, this.logger)
    this.pending = null
    this.logger?.info({ ...progress, ms: progress.finishedAt! - progress.startedAt }, 'tenant aggregates filled from history')
  }
}
