import type { EventLog } from '../../log/event-log.ts'
import { CursorError, decodeCursor } from './cursor.ts'
import type { StreamKind } from './kinds.ts'

/**
 * Where a stream starts, per partition: `now` (the current ends: only what is appended from here
 * on), `earliest` (each partition's first retained record) or a cursor. A cursor offset past the
 * end cannot come from this log (ends only grow), so it is refused rather than silently waited on.
 * One before the start (removed by retention) reads from the start.
 */
export async function resolveStart(log: EventLog, kind: StreamKind, partitions: number, spec: string): Promise<number[]> {
  const bounds = await Promise.all(Array.from({ length: partitions }, (_, p) => log.offsets(kind.topic, p)))
  if (spec === 'now') return bounds.map((b) => b.end)
  if (spec === 'earliest') return bounds.map((b) => b.start)
  const offsets = decodeCursor(kind, partitions, spec)
  offsets.forEach((o, p) => {
    const end = bounds[p]!.end
    if (o > end) throw new CursorError(`cursor "${spec}": partition ${p} is at offset ${o}, past the end of the log (${end}); the cursor does not come from this server's log`)
  })
  return offsets
}
