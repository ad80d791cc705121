import type { JsonValue, TrackedEvent } from './envelope.ts'
import { CODEC, f64At } from './codec-layout.ts'
import { readShortString } from './intern.ts'

/*
 * An encoded event as the engine reads it (./codec.ts decodeEventAt): the envelope's fields at
 * once, the event_id and the properties from the bytes when first asked for. Most events' rules
 * never look at the properties (a count of spins), and making that object was half the cost of
 * decoding one (measured on seed 000's workload: 0.43 µs an event with it, 0.2 without).
 */

const { T_NULL, T_FALSE, T_TRUE, T_NUMBER, T_STRING, T_JSON } = CODEC

/** A key bloom with every bit set: the event may hold any key (its properties are already an object). */
export const ANY_KEY = -1

export class EventView implements TrackedEvent {
  anonymous_id?: string
  private id: string | undefined = undefined

  /**
   * `props`: the properties already made (null: made from bytes[propsAt …] when first asked for).
   * `keyBloom`: keyBloom's bits of every property key the event holds (ANY_KEY when unknown).
   */
  constructor(
    readonly event: string,
    readonly tenant: string,
    readonly user_id: string,
    readonly ts: number,
    readonly received_at: number,
    protected props: Record<string, JsonValue> | null,
    protected readonly bytes: Buffer,
    private readonly idStart: number,
    private readonly idEnd: number,
    protected readonly propsAt: number,
    readonly keyBloom: number,
  ) {}

  get event_id(): string {
    return (this.id ??= this.bytes.toString('utf8', this.idStart, this.idEnd))
  }

  get properties(): Record<string, JsonValue> {
    return (this.props ??= decodeProperties(this.bytes, this.propsAt))
  }

  set properties(value: Record<string, JsonValue>) {
    this.props = value
  }
}

/** What walkProperties found; module state, so a walk allocates nothing. */
const walked = { end: 0, bloom: 0, json: false }

/**
 * Walks the encoded properties at b[pos] (`u16 count`, then each `u8 len, key | u8 type | value`)
 * without decoding them: where they end, the bloom of their keys, and whether one is JSON. Throws on
 * an unknown type, as decoding would.
 */
export function walkProperties(b: Buffer, pos: number): { end: number; bloom: number; json: boolean } {
  const count = b[pos]! | (b[pos + 1]! << 8)
  pos += 2
  let bloom = 0
  let json = false
  for (let i = 0; i < count; i++) {
    const n = b[pos]!
    bloom |= keyBit(b, pos + 1, n)
    pos += 1 + n
    const type = b[pos++]
    if (type === T_NUMBER) pos += 8
    else if (type === T_STRING || type === T_JSON) {
      if (type === T_JSON) json = true
      pos += 4 + (b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16)) + b[pos + 3]! * 0x1000000
    } else if (type !== T_NULL && type !== T_FALSE && type !== T_TRUE) throw new Error(`unknown property type ${type}`)
    // Past the buffer: the length bytes read above were undefined (NaN) or the record is truncated.
    if (!(pos <= b.length)) throw new Error('encoded event overruns its record')
  }
  walked.end = pos
  walked.bloom = bloom
  walked.json = json
  return walked
}

/** The properties at b[pos] as an object (walkProperties has checked their layout). */
export function decodeProperties(b: Buffer, pos: number): Record<string, JsonValue> {
  const count = b[pos]! | (b[pos + 1]! << 8)
  pos += 2
  const properties: Record<string, JsonValue> = {}
  for (let i = 0; i < count; i++) {
    let n = b[pos]!
    const key = readShortString(b, pos + 1, (pos += 1 + n))
    const type = b[pos++]
    let v: JsonValue
    if (type === T_NUMBER) {
      v = f64At(b, pos)
      pos += 8
    } else if (type === T_STRING || type === T_JSON) {
      n = b.readUInt32LE(pos)
      const s = pos + 4
      pos = s + n
      v = type === T_STRING ? readShortString(b, s, pos) : (JSON.parse(b.toString('utf8', s, pos)) as JsonValue)
    } else if (type === T_NULL) v = null
    else if (type === T_FALSE) v = false
    else if (type === T_TRUE) v = true
    else throw new Error(`unknown property type ${type}`)
    properties[key] = v
  }
  return properties
}

/** One of 32 bits for the key b[s, s+n): from its length and first and last bytes. */
export function keyBit(b: Uint8Array, s: number, n: number): number {
  return n === 0 ? 1 : 1 << ((n * 7 + b[s]! + b[s + n - 1]!) & 31)
}

/** The bloom of these keys: an event whose keyBloom shares no bit with it holds none of them. */
export function keyBloom(keys: readonly string[]): number {
  let bloom = 0
  for (const k of keys) {
    const b = Buffer.from(k)
    bloom |= keyBit(b, 0, b.length)
  }
  return bloom
}

/** The event may hold one of the keys whose keyBloom is `bloom` (false: it certainly holds none, and its properties need not be made). */
export function mayHoldKeys(e: TrackedEvent, bloom: number): boolean {
  return !(e instanceof EventView) || (e.keyBloom & bloom) !== 0
}
