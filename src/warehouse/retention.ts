/*
 * Partition expiration as BigQuery defines it, because seed 004 declares the warehouse table as
 * `PARTITION BY date OPTIONS (partition_expiration_days = 3)`. BigQuery's rule (REST API,
 * TimePartitioning.expirationMs): "the storage in a partition will have an expiration time of its
 * partition time plus this value", computed independently for each partition; a DAY partition's
 * time is 00:00 UTC of its date. So with N days, day D expires at D 00:00 UTC + N × 24 h, and at every
 * moment exactly N days are kept, today included: at 2026-11-05T10:00Z with N = 3, 2026-11-02
 * expired at 2026-11-05T00:00Z and 2026-11-03, 11-04 and 11-05 are kept.
 *
 * The warehouse drops expired `dt=` directories (sink/compaction.ts dropOldPartitions) and its
 * views leave them out in between (query/views.ts, inventory), so no query sees an expired day.
 */
import { dtOf } from './layout.ts'

export const DAY_MS = 86_400_000

/** Partition expiration of the warehouse (and the log) in days, as in seed 004 (`partition_expiration_days=3`). */
export const DEFAULT_RETENTION_DAYS = 3

/**
 * `days` as a partition expiration in whole days, or a RangeError. 0 is refused rather than
 * defined: BigQuery would drop every partition at once, and a warehouse that keeps nothing is a
 * disabled warehouse (`serve --no-warehouse`), not a retention.
 */
export function checkRetentionDays(days: number): number {
  if (!Number.isSafeInteger(days) || days < 1) throw new RangeError(`retention days must be a positive integer, got ${days}`)
  return days
}

/** 00:00 UTC of `dt` (YYYY-MM-DD) in epoch ms: a day partition's partition time. */
export function dayStart(dt: string): number {
  const ms = Date.parse(`${dt}T00:00:00.000Z`)
  if (!/^\d{4}-\d{2}-\d{2}$/.test(dt) || Number.isNaN(ms)) throw new RangeError(`not a day (YYYY-MM-DD): ${dt}`)
  return ms
}

/** When day `dt` expires with `days` of partition expiration (epoch ms): its 00:00 UTC plus the days. */
export function expiresAt(dt: string, days: number): number {
  return dayStart(dt) + checkRetentionDays(days) * DAY_MS
}

/** Whether day `dt` has expired at `now`: its expiration time has come (at that very millisecond, it has). */
export function isExpired(dt: string, now: number, days: number): boolean {
  return expiresAt(dt, days) <= now
}

/**
 * The oldest day still kept at `now` (YYYY-MM-DD): days before it have expired, it and later days
 * have not. It is today − (days − 1), so `dt >= firstKeptDay(now, days)` selects exactly the kept days.
 */
export function firstKeptDay(now: number, days: number): string {
  return dtOf((Math.floor(now / DAY_MS) - checkRetentionDays(days) + 1) * DAY_MS)
}
