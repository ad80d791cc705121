import { idSpan } from '../../events/index.ts'
import type { SeenIds } from '../replay-ids.ts'
import { DROPPED, ENTRY_BINARY, ENTRY_HEADER, entryEnd } from './batch.ts'
import type { InputCounts } from './input.ts'

/*
 * A replay's de-duplication (docs/replay.md, "Duplicates"): the entries whose event carries the
 * client's own event_id, looked at in file order, batch after batch, once the lines are read (by one
 * reader or several), before any engine applies them. A repeat is marked DROPPED in the shared
 * batch, which no engine applies, and counted.
 */

/** Marks the repeats among the batch's entries at `clientIds` (offsets, in order); returns how many. */
export function dropRepeats(bytes: Buffer, clientIds: readonly number[], seen: SeenIds, counts: InputCounts): number {
  let dropped = 0
  for (const at of clientIds) {
    if (seen.firstTime('default', eventIdOf(bytes, at))) continue
    counts.duplicates++
    bytes[at + 1] = DROPPED & 0xff
    bytes[at + 2] = DROPPED >>> 8
    dropped++
  }
  return dropped
}

/** The event_id of the entry at bytes[at]. */
function eventIdOf(bytes: Buffer, at: number): string {
  const start = at + ENTRY_HEADER
  const end = entryEnd(bytes, at)
  if (bytes[at] !== ENTRY_BINARY) return (JSON.parse(bytes.toString('utf8', start, end)) as { event_id: string }).event_id
  // The reader wrote this entry itself: its lengths hold.
  const ids = idSpan(bytes, start, end)!
  return bytes.toString('utf8', ids.idStart, ids.idEnd)
}
