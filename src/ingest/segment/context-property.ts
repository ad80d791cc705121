import { DEFAULT_LIMITS, checkProperty, type Budget } from '../../events/index.ts'

/*
 * A Segment message's `context` as the batch reader (./fast-path.ts) writes it: the nested property
 * validateEvent keeps, its JSON as encodeEvent writes it, and what it counts against the limits.
 */

const EMPTY = Buffer.alloc(0)

/** The last context read: messages of one SDK and page repeat it byte for byte. */
const lastContext = { raw: EMPTY, json: EMPTY, bytes: 0, items: 0, ok: false }

const TOO_LARGE: typeof lastContext = { raw: EMPTY, json: EMPTY, bytes: 0, items: 0, ok: false }

/**
 * A message's context as the property validateEvent keeps (T_JSON: JSON.stringify of the parsed
 * value), with what it adds to the event's size and item count; ok false when validation refuses
 * it; null when it is not JSON. The last one is remembered: an SDK sends the same context again.
 */
export function contextOf(b: Buffer, s: number, e: number): typeof lastContext | null {
  const last = lastContext
  if (last.raw.length === e - s && last.raw.compare(b, s, e) === 0) return last
  // A context longer than a whole event may be is left to the general path (which refuses it, or
  // finds it is mostly blanks): not parsed twice, not kept here.
  if (e - s > DEFAULT_LIMITS.maxEventBytes) return TOO_LARGE
  let v: unknown
  try {
    v = JSON.parse(b.toString('utf8', s, e))
  } catch {
    return null
  }
  const budget: Budget = { bytes: 0, items: 0 }
  last.ok = checkProperty('context', v, DEFAULT_LIMITS, budget) === null
  last.raw = Buffer.from(b.subarray(s, e))
  // Only a context validation keeps is written: a refused one is never turned back into text.
  last.json = last.ok ? Buffer.from(JSON.stringify(v)) : EMPTY
  last.bytes = budget.bytes
  last.items = budget.items
  return last
}
