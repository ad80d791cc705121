import { CODEC } from '../../events/index.ts'
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
  if (bytes[at] !== ENTRY_BINARY) return (JSON.parse(bytes.toString('utf8', start, entryEnd(bytes, at))) as { event_id: string }).event_id
  // The codec's layout (src/events/codec.ts): header, event, tenant, user_id, [anonymous_id], event_id.
  let pos = start + CODEC.HEADER
  pos += 1 + bytes[pos]!
  pos += 1 + bytes[pos]!
  pos += 2 + (bytes[pos]! | (bytes[pos + 1]! << 8))
  if ((bytes[start + CODEC.AT_FLAGS]! & CODEC.HAS_ANONYMOUS_ID) !== 0) pos += 2 + (bytes[pos]! | (bytes[pos + 1]! << 8))
  const n = bytes[pos]! | (bytes[pos + 1]! << 8)
  return bytes.toString('utf8', pos + 2, pos + 2 + n)
}
