/*
 * Byte-level pieces of the collector's fast path: which envelope field a key names, validate.ts's
 * name rules on bytes, and the small writes and copies an encoded event is made of.
 */

// Reserved fields, as bits of a seen-mask.
export const F_EVENT = 1
export const F_USER = 2
export const F_ANON = 4
export const F_TS = 8
export const F_EVENT_ID = 16
export const F_TENANT = 32
/** sent_at: its element takes the slow path (a corrected time; rare). */
export const F_SENT_AT = 64
const EVENT = Buffer.from('event')
const USER_ID = Buffer.from('user_id')
const ANONYMOUS_ID = Buffer.from('anonymous_id')
const TS = Buffer.from('ts')
const EVENT_ID = Buffer.from('event_id')
const TENANT = Buffer.from('tenant')
const SENT_AT = Buffer.from('sent_at')
const PROTO = Buffer.from('__proto__')

// validate.ts's event name rule, /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/, as a byte table: 2 = may start a name, 1 = may follow.
const NAME_BYTE = new Uint8Array(256)
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c)
  if (/[A-Za-z_]/.test(ch)) NAME_BYTE[c] = 2
  else if (/[0-9.:-]/.test(ch)) NAME_BYTE[c] = 1
}

/** Which envelope field the key b[s, e) names (an F_* bit), or 0 for a property. */
export function reservedField(b: Buffer, s: number, e: number): number {
  switch (e - s) {
    case 2:
      return startsWith(b, s, TS) ? F_TS : 0
    case 5:
      return startsWith(b, s, EVENT) ? F_EVENT : 0
    case 6:
      return startsWith(b, s, TENANT) ? F_TENANT : 0
    case 7:
      return startsWith(b, s, USER_ID) ? F_USER : startsWith(b, s, SENT_AT) ? F_SENT_AT : 0
    case 8:
      return startsWith(b, s, EVENT_ID) ? F_EVENT_ID : 0
    case 12:
      return startsWith(b, s, ANONYMOUS_ID) ? F_ANON : 0
    default:
      return 0
  }
}

/** b[a, a+len) and b[c, c+len) hold the same bytes. */
export function sameRange(b: Uint8Array, a: number, c: number, len: number): boolean {
  return sameBytes(b, a, b, c, len)
}

/** The key b[s, s+len) is "__proto__", which validate.ts refuses. */
export function isProtoKey(b: Buffer, s: number, len: number): boolean {
  return len === PROTO.length && startsWith(b, s, PROTO)
}

function sameBytes(x: Uint8Array, xs: number, y: Uint8Array, ys: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (x[xs + i] !== y[ys + i]) return false
  return true
}

/** b[s, …) starts with the bytes of `lit`. */
function startsWith(b: Uint8Array, s: number, lit: Buffer): boolean {
  return sameBytes(b, s, lit, 0, lit.length)
}

/** validate.ts's event name rule on the bytes b[s, e). */
export function isEventName(b: Buffer, s: number, e: number): boolean {
  const len = e - s
  if (len === 0 || len > 128 || NAME_BYTE[b[s]!] !== 2) return false
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
