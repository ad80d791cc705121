import { describe, expect, it } from 'vitest'
import { decodeEventAt, encodeEvent, EventView, keyBloom, mayHoldKeys, validateEvent, type TrackedEvent } from '../../src/events/index.ts'

const sample = (raw: Record<string, unknown>): TrackedEvent => {
  const v = validateEvent(raw, { tenant: 'acme', receivedAt: Date.UTC(2026, 10, 1) })
  if (!v.ok) throw new Error(v.error.reason)
  return v.event
}

const decode = (b: Buffer): TrackedEvent => decodeEventAt(b, 0, b.length)

describe('the engine view of an encoded event (properties made when first asked for)', () => {
  it('gives the same properties as the event encoded, made once', () => {
    const e = sample({ event: 'spin', user_id: '7', bet: 2.5, machine: 'lucky', on: true, off: false, none: null, ключ: 'значение' })
    const v = decode(encodeEvent(e))
    expect(v).toBeInstanceOf(EventView)
    expect(v.properties).toEqual(e.properties)
    expect(v.properties).toBe(v.properties)
    v.properties = { set: 1 }
    expect(v.properties).toEqual({ set: 1 })
  })

  it('still fails at decoding on a damaged property layout, where readers catch it (dead letters)', () => {
    const good = encodeEvent(sample({ event: 'spin', user_id: '7', bet: 2, machine: 'lucky' }))
    // Cut inside the last string value: the layout overruns the record.
    expect(() => decode(Buffer.from(good.subarray(0, good.length - 3)))).toThrow(/overruns/)
    // An unknown value type: the type byte of the first property ("bet", after its u8 length and key).
    const bad = Buffer.from(good)
    const typeAt = bad.indexOf(Buffer.from('bet')) + 3
    bad[typeAt] = 9
    expect(() => decode(bad)).toThrow(/unknown property type 9/)
    // Nested JSON that does not parse: still refused at decoding, not later in the engine.
    const nested = Buffer.from(encodeEvent(sample({ event: 'spin', user_id: '7', meta: { a: 1 } })))
    nested[nested.indexOf(Buffer.from('{"a":1}'))] = 0x5b
    expect(() => decode(nested)).toThrow()
  })

  it('says an event holds none of some keys only when it holds none of them', () => {
    const keys = ['country', 'language', 'user_agent', 'referrer', 'host']
    const bloom = keyBloom(keys)
    const none = decode(encodeEvent(sample({ event: 'spin', user_id: '7', bet: 2, machine: 'lucky' })))
    // A false "may" only costs making the properties; a false "none" would lose a profile property.
    for (const k of keys) expect(mayHoldKeys(decode(encodeEvent(sample({ event: 'spin', user_id: '7', bet: 2, [k]: 'x' }))), bloom)).toBe(true)
    expect(mayHoldKeys(none, bloom)).toBe(false)
    // An event already an object (not a view) may hold anything.
    expect(mayHoldKeys(sample({ event: 'spin', user_id: '7' }), bloom)).toBe(true)
  })
})
