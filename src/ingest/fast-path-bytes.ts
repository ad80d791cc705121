import { EVENT_NAME_RULE, FORBIDDEN_KEY, RESERVED_FIELDS, type ReservedField } from '../events/index.ts'
import { sameBytes } from '../events/same-bytes.ts'

/*
 * Byte-level pieces of the collector's fast path: which envelope field a key names, validate.ts's
 * name rules on bytes, and the small writes and copies an encoded event is made of.
 */

// Reserved fields, as bits of a seen-mask: bit i is RESERVED_FIELDS[i], so the list lives in envelope.ts only.
const FIELD_BIT = Object.fromEntries(RESERVED_FIELDS.map((name, i) => [name, 1 << i])) as Record<ReservedField, number>
export const F_EVENT = FIELD_BIT.event
export const F_USER = FIELD_BIT.user_id
export const F_ANON = FIELD_BIT.anonymous_id
export const F_TS = FIELD_BIT.ts
export const F_EVENT_ID = FIELD_BIT.event_id
export const F_TENANT = FIELD_BIT.tenant
/** sent_at: its element takes the slow path (a corrected time; rare). */
export const F_SENT_AT = FIELD_BIT.sent_at
/** received_at, id_assigned: the server's own; the slow path refuses an element that sends one. */
export const F_SERVER = FIELD_BIT.received_at | FIELD_BIT.id_assigned
const PROTO = Buffer.from(FORBIDDEN_KEY)

/**
 * A matcher of keys against a fixed list of ASCII names: the key b[s, e) → its index in `names` + 1,
 * or 0 for none. A key's length, first and last bytes pick one slot of a table, which names the one
 * name it can be (compared in full) or says several share the slot (then compared with the names of
 * its length): most keys, names or not, cost one table read and at most one comparison (measured:
 * 14 ns a key with names bucketed by length only).
 */
export function keyMatcher(names: readonly string[]): (b: Buffer, s: number, e: number) => number {
  const all = names.map((name, i) => ({ name: Buffer.from(name), at: i + 1 }))
  const maxLength = Math.max(0, ...all.map((n) => n.name.length))
  const byLength: Array<Array<{ name: Buffer; at: number }>> = Array.from({ length: maxLength + 1 }, () => [])
  // Slot value: 0 no name, i + 1 the name at i, SHARED several.
  const table = new Int16Array(MATCH_SLOTS)
  for (const n of all) {
    const len = n.name.length
    byLength[len]!.push(n)
    if (len === 0) continue
    const k = matchSlot(len, n.name[0]!, n.name[len - 1]!)
    table[k] = table[k] === 0 ? n.at : SHARED
  }
  return (b, s, e) => {
    const len = e - s
    // Bounds first: a client's key may be as long as it likes.
    if (len === 0 || len > maxLength) return len === 0 && byLength[0]!.length > 0 ? byLength[0]![0]!.at : 0
    const t = table[matchSlot(len, b[s]!, b[e - 1]!)]!
    if (t === 0) return 0
    if (t !== SHARED) {
      const name = all[t - 1]!.name
      return name.length === len && startsWith(b, s, name) ? t : 0
    }
    const candidates = byLength[len]!
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i]!
      if (startsWith(b, s, c.name)) return c.at
    }
    return 0
  }
}

const MATCH_SLOTS = 1024
const SHARED = -1

function matchSlot(len: number, first: number, last: number): number {
  return (len * 61 + first * 7 + last) & (MATCH_SLOTS - 1)
}

const reservedIndex = keyMatcher(RESERVED_FIELDS)

// envelope.ts's event name rule as a byte table: 2 = may start a name, 1 = may only follow.
const NAME_FIRST = new RegExp(`[${EVENT_NAME_RULE.first}]`)
const NAME_REST = new RegExp(`[${EVENT_NAME_RULE.rest}]`)
const NAME_BYTE = new Uint8Array(256)
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c)
  if (NAME_FIRST.test(ch)) NAME_BYTE[c] = 2
  else if (NAME_REST.test(ch)) NAME_BYTE[c] = 1
}

/** Which envelope field the key b[s, e) names (an F_* bit), or 0 for a property. */
export function reservedField(b: Buffer, s: number, e: number): number {
  const at = reservedIndex(b, s, e)
  return at === 0 ? 0 : 1 << (at - 1)
}

/** b[a, a+len) and b[c, c+len) hold the same bytes. */
export function sameRange(b: Uint8Array, a: number, c: number, len: number): boolean {
  return sameBytes(b, a, b, c, len)
}

/** The key b[s, s+len) is FORBIDDEN_KEY ("__proto__"), which validate.ts refuses. */
export function isProtoKey(b: Buffer, s: number, len: number): boolean {
  return len === PROTO.length && startsWith(b, s, PROTO)
}

/** b[s, …) starts with the bytes of `lit`. */
function startsWith(b: Uint8Array, s: number, lit: Buffer): boolean {
  return sameBytes(b, s, lit, 0, lit.length)
}

/** validate.ts's event name rule on the bytes b[s, e). */
export function isEventName(b: Buffer, s: number, e: number): boolean {
  const len = e - s
  if (len === 0 || len > EVENT_NAME_RULE.maxLength || NAME_BYTE[b[s]!] !== 2) return false
  for (let i = s + 1; i < e; i++) if (NAME_BYTE[b[i]!] === 0) return false
  return true
}

export function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength)
}

/** Writes v as u16 little-endian at b[pos]; returns pos + 2. */
export function u16(b: Buffer, pos: number, v: number): number {
  b[pos] = v & 0xff
  b[pos + 1] = v >>> 8
  return pos + 2
}

/** Copies src[s, e) to dst[pos]; returns the length. Short runs (nearly all) in a loop: a native copy's call costs more. */
export function copy(src: Buffer, s: number, e: number, dst: Buffer, pos: number): number {
  const len = e - s
  if (len > 64) return src.copy(dst, pos, s, e)
  for (let i = 0; i < len; i++) dst[pos + i] = src[s + i]!
  return len
}

/**
 * copy, four bytes a step through DataViews of src (`sv`, null when there is none: byte by byte)
 * and dst (`dv`): measured 2.5 ns a byte for the byte loop, under 1 for this on runs of 12 to 40
 * bytes, which is what an event's fields and properties are.
 */
export function copyWords(src: Buffer, sv: DataView | null, s: number, e: number, dst: Buffer, dv: DataView, pos: number): number {
  const len = e - s
  if (len > 64) return src.copy(dst, pos, s, e)
  let i = 0
  if (sv !== null) for (; i + 4 <= len; i += 4) dv.setUint32(pos + i, sv.getUint32(s + i, true), true)
  for (; i < len; i++) dst[pos + i] = src[s + i]!
  return len
}
