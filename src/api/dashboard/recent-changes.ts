import type { EventLog } from '../../log/event-log.ts'
import { encodeCursor } from '../streams/cursor.ts'
import { SEGMENT_CHANGES } from '../streams/kinds.ts'
import { selectRecord, type WireRecord } from '../streams/records.ts'
import { readRange } from '../../log/read-range.ts'

export interface RecentChanges {
  /** Oldest first, as the stream would have sent them. */
  changes: WireRecord[]
  /** Where GET /v1/segment-changes?from=… continues: exactly after the records read here. */
  cursor: string
}

/**
 * The tenant's latest segment changes, from the tail of each partition of the segment-changes log
 * (at most `scan` records per partition), and the stream cursor at the ends read: a client shows
 * these, then follows the stream from the cursor with nothing missed or repeated.
 */
export async function recentChanges(log: EventLog, partitions: number, tenant: string, only: ReadonlySet<string> | null, limit: number, scan: number): Promise<RecentChanges> {
  const kind = SEGMENT_CHANGES
  const bounds = await Promise.all(Array.from({ length: partitions }, (_, p) => log.offsets(kind.topic, p)))
  const found: WireRecord[] = []
  for (let p = 0; p < partitions; p++) {
    const { start, end } = bounds[p]!
    const from = Math.max(start, end - scan)
    if (from >= end) continue
    for (const r of await readRange(log, kind.topic, p, from, end)) {
      const wire = selectRecord(kind, p, r, { tenant, only })
      if (wire !== null) found.push(wire)
    }
  }
  found.sort((a, b) => atOf(a) - atOf(b) || a.partition - b.partition || a.offset - b.offset)
  return {
    changes: found.slice(Math.max(0, found.length - limit)),
    cursor: encodeCursor(
      kind,
      bounds.map((b) => b.end),
    ),
  }
}

function atOf(r: WireRecord): number {
  return typeof r.at === 'number' ? r.at : 0
}
