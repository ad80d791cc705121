import type { EngineRules } from '../engine-rules.ts'
import type { UserState } from '../user-state.ts'
import type { RuleRuntime } from '../rule-runtime.ts'
import { reserveSlots, slotsTakenBy } from '../metrics/windows/slots.ts'

/*
 * Backfill on creation (docs/tenancy.md): when a partition switches a tenant to rules with
 * aggregates it did not keep before, those aggregates are filled from the tenant's history in that
 * partition before the partition reads on, so a new segment starts with the members its rule has
 * over history, and the events after the change add to it with no gap and nothing counted twice.
 */

/** One partition's backfill: the history before a rules record, for the aggregates it added. */
export interface BackfillJob {
  tenant: string
  version: number
  partition: number
  /** Offset of the rules record: every event of the partition before it is history. */
  cut: number
  /**
   * The partition's watermark at the cut: history is read as of this time. An event before the cut
   * with a later time is still held by the engine, and is applied when released, so it is not history.
   */
  at: number
  /** Indexes, in the tenant's new rules, of the aggregates that started empty. */
  metrics: number[]
}

/** What a backfill has read so far, and from where. */
export interface BackfillProgress {
  tenant: string
  version: number
  partition: number
  /** Rows fed to the aggregates: from the warehouse, then from the log. */
  rows: { warehouse: number; log: number }
  /** History read from the warehouse: offsets before this one (0 when it was not used). */
  warehouseUpTo: number
  startedAt: number
  /** Null while running. */
  finishedAt: number | null
  /** The users given history (users of the tenant the partition holds). */
  users: number
  /** A source that failed: the aggregates keep what the others gave (logged). */
  error: string | null
}

/** One event's contribution to one of the job's aggregates (its index in the rules). */
export type RowVisitor = (userId: string, metric: number, ts: number, value: unknown) => void

/**
 * Where history comes from: the warehouse (everything it holds before the cut) and the log (the rest
 * up to the cut). Each returns the offset it covered up to, so the next starts there.
 */
export interface HistorySource {
  readonly name: 'warehouse' | 'log'
  /** Feeds rows of offsets [from, job.cut) it holds; returns the offset it read up to. */
  read(job: BackfillJob, rules: EngineRules, from: number, visit: RowVisitor, progress: BackfillProgress): Promise<number>
}

/**
 * Feeds history rows straight into the tenant's users' new aggregates: the partition reads nothing
 * else meanwhile, and those aggregates were empty at the cut, so there is nothing to merge with and
 * no second copy of a million users' windows to build. A user id the partition does not hold is
 * skipped (an id absorbed into a person, or state from before the engine's own start).
 */
export class HistoryFill {
  private lastId: string | null = null
  private last: UserState | undefined = undefined
  private reserved = false

  constructor(
    private readonly users: ReadonlyMap<string, UserState> | undefined,
    /** The tenant's rules: their first state of an aggregate, as the event path makes it. */
    private readonly runtime: RuleRuntime,
    private readonly job: BackfillJob,
  ) {}

  /** Room for every user's new windows in one allocation (see Chunks.reserve), made at the first row. */
  private reserve(): void {
    this.reserved = true
    const n = this.users?.size ?? 0
    const one = slotsTakenBy(() => this.job.metrics.forEach((i) => this.runtime.newMetric(i, this.job.at)))
    reserveSlots({ doubles: one.doubles * n, counts: one.counts * n })
  }

  readonly visit: RowVisitor = (userId, metric, ts, value) => {
    if (!this.reserved) this.reserve()
    // Rows come grouped by user from the warehouse: one lookup a run of rows.
    if (userId !== this.lastId) {
      this.lastId = userId
      this.last = this.users?.get(userId)
    }
    const u = this.last
    if (u === undefined) return
    const state = (u.metrics[metric] ??= this.runtime.newMetric(metric, this.job.at))
    state.add(ts, value)
    if (typeof value === 'number' && value < 0) u.negative = true
  }

  /** Empties the job's aggregates again (a source failed part way: its rows must not count). */
  clear(): void {
    this.lastId = null
    for (const u of this.users?.values() ?? []) for (const i of this.job.metrics) u.metrics[i] = undefined
  }

  /** Users given some history. */
  filled(): number {
    let n = 0
    for (const u of this.users?.values() ?? []) if (this.job.metrics.some((i) => u.metrics[i] !== undefined)) n++
    return n
  }
}
