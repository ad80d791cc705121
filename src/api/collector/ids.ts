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
const VARIANT = ['8', '9', 'a', 'b']
const seed = Buffer.alloc(9)

export class RequestIds {
  private head: string
  private tail = ''
  private variant = ''
  private counter = 0
  /** One closure per request (validateEvent's makeId), none per event. */
  readonly next = (): string => {
    if (this.counter >= 0x1000000) this.reseed()
    const c = this.counter++
    return this.head + HEX3[c >>> 12]! + '-' + this.variant + HEX3[c & 0xfff]! + this.tail
  }

  constructor(receivedAt: number) {
    const ts = Math.max(0, Math.floor(receivedAt)).toString(16).padStart(12, '0').slice(-12)
    this.head = `${ts.slice(0, 8)}-${ts.slice(8)}-7`
    this.reseed()
  }

  private reseed(): void {
    randomFillSync(seed)
    this.counter = seed.readUIntBE(0, 3) & 0x7fffff
    this.variant = VARIANT[seed[3]! & 3]!
    this.tail = `-${seed.toString('hex', 3, 9)}`
  }
}
