import { randomFillSync } from 'node:crypto'

/*
 * Server-assigned event ids for one request. Every event of a request has the same receive time, so
 * instead of drawing 74 random bits per id (uuid7: a hex conversion and five slices, ~0.4 µs), the
 * ids of a request share random bits drawn once and differ by a counter — RFC 9562 §6.2 method 1,
 * "fixed bit-length dedicated counter". They are valid UUIDv7s, and strictly increasing within a
 * request, so they sort by receive time and then by position in the request.
 *
 *   unix_ts_ms (48) | 7 | counter bits 23..12 | variant 10, 2 random bits | counter bits 11..0 | random (48)
 *
 * The counter starts at a random value below 2^23 (its top bit 0, as the RFC advises, leaving at
 * least 2^23 ids before it wraps); if it ever reaches 2^24 the random bits are drawn again.
 */

const HEX3: string[] = []
for (let i = 0; i < 4096; i++) HEX3.push(i.toString(16).padStart(3, '0'))
/** HEX3 as ASCII bytes, 3 per entry, for writeNext. */
const HEX3_BYTES = Buffer.from(HEX3.join(''), 'latin1')
const VARIANT = ['8', '9', 'a', 'b']
const seed = Buffer.alloc(9)

/** Length of an id in bytes (all ASCII). */
export const REQUEST_ID_LENGTH = 36

export class RequestIds {
  private head: string
  private tail = ''
  private variant = ''
  private counter = 0
  /** An id of this request with counter digits 000-000, as bytes, for writeNext. */
  private readonly template = new DataView(new ArrayBuffer(REQUEST_ID_LENGTH))
  /** One closure per request (validateEvent's makeId), none per event. */
  readonly next = (): string => {
    if (this.counter >= 0x1000000) this.reseed()
    const c = this.counter++
    return this.head + HEX3[c >>> 12]! + '-' + this.variant + HEX3[c & 0xfff]! + this.tail
  }

  /** `fixed` (9 bytes) replaces the first random draw: tests use it to make two identical sequences. */
  constructor(receivedAt: number, fixed?: Uint8Array) {
    const ts = Math.max(0, Math.floor(receivedAt)).toString(16).padStart(12, '0').slice(-12)
    this.head = `${ts.slice(0, 8)}-${ts.slice(8)}-7`
    this.reseed(fixed)
  }

  /**
   * Writes the id `next()` would return (and advances the same counter) as 36 ASCII bytes at `pos`:
   * the collector's fast path encodes ids straight into an event's bytes, with no string per id.
   * The request's constant bytes go as nine 32-bit words, then the six counter digits.
   */
  writeNext(out: DataView, pos: number): void {
    if (this.counter >= 0x1000000) this.reseed()
    const c = this.counter++
    const t = this.template
    for (let i = 0; i < REQUEST_ID_LENGTH; i += 4) out.setUint32(pos + i, t.getUint32(i))
    const hi = (c >>> 12) * 3
    const lo = (c & 0xfff) * 3
    out.setUint8(pos + 15, HEX3_BYTES[hi]!)
    out.setUint8(pos + 16, HEX3_BYTES[hi + 1]!)
    out.setUint8(pos + 17, HEX3_BYTES[hi + 2]!)
    out.setUint8(pos + 20, HEX3_BYTES[lo]!)
    out.setUint8(pos + 21, HEX3_BYTES[lo + 1]!)
    out.setUint8(pos + 22, HEX3_BYTES[lo + 2]!)
  }

  private reseed(fixed?: Uint8Array): void {
    if (fixed !== undefined && fixed.length >= seed.length) seed.set(fixed.subarray(0, seed.length))
    else randomFillSync(seed)
    this.counter = seed.readUIntBE(0, 3) & 0x7fffff
    this.variant = VARIANT[seed[3]! & 3]!
    this.tail = `-${seed.toString('hex', 3, 9)}`
    const id = `${this.head}000-${this.variant}000${this.tail}`
    for (let i = 0; i < REQUEST_ID_LENGTH; i++) this.template.setUint8(i, id.charCodeAt(i))
  }
}
