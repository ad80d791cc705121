import { sameBytes } from './same-bytes.ts'

/**
 * A direct-mapped cache of short strings read from buffers. Event names, tenants, property keys and
 * common values repeat on almost every event: returning the same string object skips an allocation
 * and lets later Map lookups reuse the string's cached hash. A collision just replaces the slot.
 *
 * A slot keeps the bytes its string was read from beside the string, and a hit compares bytes with
 * bytes, not the buffer's bytes with the string's characters (charCodeAt), which cost about twice as
 * much (with RepeatedString, decoding seed 000's events in process: 127 → 118 ns an event).
 */
const SLOTS = 8192
const MAX_LENGTH = 32
const cache = new Array<string | undefined>(SLOTS)
/** Slot i's bytes are cacheBytes[i·MAX_LENGTH, i·MAX_LENGTH + cacheLength[i]). */
const cacheBytes = new Uint8Array(SLOTS * MAX_LENGTH)
const cacheLength = new Uint8Array(SLOTS)

/** Node's Buffer has latin1Slice at run time; its type declarations leave it out. */
type Latin1 = Buffer & { latin1Slice(start: number, end: number): string }

export function readShortString(b: Buffer, start: number, end: number): string {
  const n = end - start
  if (n > MAX_LENGTH) return b.toString('utf8', start, end)
  let h = 0x811c9dc5 ^ n
  for (let i = start; i < end; i++) {
    const c = b[i]!
    if (c > 0x7f) return b.toString('utf8', start, end)
    h = Math.imul(h ^ c, 0x01000193)
  }
  const slot = (h >>> 0) & (SLOTS - 1)
  const hit = cache[slot]
  if (hit !== undefined && cacheLength[slot] === n && sameBytes(b, start, cacheBytes, slot * MAX_LENGTH, n)) return hit
  const s = (b as Latin1).latin1Slice(start, end)
  cache[slot] = s
  cacheLength[slot] = n
  copyBytes(b, start, cacheBytes, slot * MAX_LENGTH, n)
  return s
}

/**
 * The string last read at one field of the events (the tenant, the event name), with the bytes it
 * was read from: the next event's bytes are most often the same, and one comparison of them replaces
 * a hash and a comparison. The same bytes read as UTF-8 give the same string, so any bytes (not only
 * ASCII) may be remembered.
 */
export class RepeatedString {
  value = ''
  /** Bytes of `value` as read, or −1: nothing remembered (a string longer than MAX_LENGTH bytes). */
  private length = -1
  private readonly bytes = new Uint8Array(MAX_LENGTH)

  /** The string in b[start, end): `value` when the bytes are the ones it was read from. */
  read(b: Buffer, start: number, end: number): string {
    const n = end - start
    if (n === this.length && sameBytes(b, start, this.bytes, 0, n)) return this.value
    this.value = readShortString(b, start, end)
    if (n > MAX_LENGTH) this.length = -1
    else {
      copyBytes(b, start, this.bytes, 0, n)
      this.length = n
    }
    return this.value
  }
}

/** Copies n bytes (at most MAX_LENGTH) without making a view for TypedArray.set. */
function copyBytes(from: Uint8Array, fromStart: number, to: Uint8Array, toStart: number, n: number): void {
  for (let i = 0; i < n; i++) to[toStart + i] = from[fromStart + i]!
}
