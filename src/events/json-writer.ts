import type { JsonValue, TrackedEvent } from './envelope.ts'
import { JSON_LAYOUT } from './json-layout.ts'

/*
 * A validated event as the canonical JSON record of the `events` log (docs/events.md, "Inside: the
 * stored event"): the form a client POSTs — envelope fields and flat properties at the top level —
 * plus the reserved `received_at` and `id_assigned`, in one fixed order with no whitespace, so the
 * engine's byte-level reader (./json-reader.ts) can read it without JSON.parse:
 *
 *   {"event":…,"user_id":…[,"anonymous_id":…],"ts":N,"event_id":…[,"id_assigned":true],"tenant":…,"received_at":N[,"key":value]…}
 *
 * Strings are written as UTF-8 holds them: a lone surrogate becomes U+FFFD, as in the binary
 * envelope, so both formats give every reader the same strings. Nested values are JSON.stringify's,
 * as the binary envelope stores them.
 */

type WellFormed = string & { isWellFormed(): boolean; toWellFormed(): string }

// Records are written into a shared slab and handed out as views of it, as encodeEvent does.
const SLAB = 256 * 1024
let slab = Buffer.allocUnsafe(SLAB)
let used = 0

/** The event's canonical JSON record. Throws a RangeError when a time or number is not finite (JSON has no NaN). */
export function encodeEventJson(event: TrackedEvent): Buffer {
  const text = eventJsonText(event)
  // At most 3 bytes per UTF-16 unit.
  const worst = 3 * text.length
  if (used + worst > slab.length) {
    slab = Buffer.allocUnsafe(Math.max(SLAB, worst))
    used = 0
  }
  const start = used
  used += slab.write(text, start, 'utf8')
  return slab.subarray(start, used)
}

/** The canonical record as text. */
export function eventJsonText(e: TrackedEvent): string {
  const L = JSON_LAYOUT
  let s = `${L.event}${str(e.event)}${L.userId}${str(e.user_id)}`
  if (e.anonymous_id !== undefined) s += `${L.anonymousId}${str(e.anonymous_id)}`
  s += `${L.ts}${num(e.ts, 'ts')}${L.eventId}${str(e.event_id)}`
  if (e.id_assigned === true) s += L.assigned
  s += `${L.tenant}${str(e.tenant)}${L.receivedAt}${num(e.received_at, 'received_at')}`
  const props = e.properties
  for (const key in props) s += `,${str(key)}:${value(props[key]!, key)}`
  return `${s}}`
}

function value(v: JsonValue, key: string): string {
  if (typeof v === 'string') return str(v)
  if (typeof v === 'number') return num(v, key)
  // null, booleans, objects and arrays: JSON.stringify's text, the binary envelope's nested JSON too.
  return JSON.stringify(v)
}

function str(s: string): string {
  return JSON.stringify((s as WellFormed).isWellFormed() ? s : (s as WellFormed).toWellFormed())
}

/** A finite number as JSON; -0 keeps its sign, as the binary envelope's f64 does. */
function num(v: number, field: string): string {
  if (!Number.isFinite(v)) throw new RangeError(`${field}: ${v} is not a finite number; JSON cannot hold it`)
  return v === 0 && 1 / v < 0 ? '-0' : String(v)
}
