/*
 * What the warehouse sink threads of this process have counted (stats() of src/warehouse/sink),
 * summed for the server's /metrics (src/api/metrics.ts). Module state, like the truncated-texts count
 * (src/ingest/text-bounds.ts): the server starts its sink thread without handing it its metrics
 * registry, and a process runs one server. Each thread reports its own running totals; what is
 * kept here are the sums of their increases, so a restarted thread never takes a count back.
 */

/** A sink thread's running totals, as it posts them (message `counts`). */
export interface SinkCounts {
  /** Poison records skipped into the dead letters, by stream (`events`, `segment-changes`, `notifications`). */
  poisonRecords: Record<string, number>
  /** Property columns of written event files some of whose values did not fit the column type (kept in `_rescued`). */
  typeConflicts: number
}

const poisonRecords = new Map<string, number>()
let typeConflicts = 0

/** The process's totals. */
export function warehouseSinkCounts(): { poisonRecords: ReadonlyMap<string, number>; typeConflicts: number } {
  return { poisonRecords, typeConflicts }
}

/** Adds what a thread counted since its previous report (`last`, null for its first). */
export function addSinkCounts(now: SinkCounts, last: SinkCounts | null): void {
  // Every stream gets its entry, 0 included: /metrics shows each stream's series from the start.
  for (const [stream, n] of Object.entries(now.poisonRecords)) poisonRecords.set(stream, (poisonRecords.get(stream) ?? 0) + Math.max(0, n - (last?.poisonRecords[stream] ?? 0)))
  typeConflicts += Math.max(0, now.typeConflicts - (last?.typeConflicts ?? 0))
}
