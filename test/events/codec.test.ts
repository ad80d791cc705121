import { describe, expect, it } from 'vitest'
import { decodeEvent, encodeEvent, validateEvent, type TrackedEvent } from '../../src/events/index.ts'

const sample = (raw: Record<string, unknown>): TrackedEvent => {
  const v = validateEvent(raw, { tenant: 'acme', receivedAt: Date.UTC(2026, 10, 1) })
  if (!v.ok) throw new Error(v.error.reason)
  return v.event
}

describe('event codec', () => {
  it('round-trips events exactly, including unicode, anonymous ids and nested properties', () => {
    for (const e of [
      sample({ event: 'spin', user_id: '17', ts: Date.UTC(2026, 10, 1, 10, 0, 0, 123), bet: 10 }),
      sample({ event: 'page_view', anonymous_id: 'anon-ü', country: 'TR', meta: { a: [1, 'ß', null, true], b: { c: -0.5 } } }),
      sample({ event: 'x', user_id: '用户', event_id: 'client-id-☃', ts: 946684800000 }),
    ]) {
      // id_assigned is a flag in the envelope, not a field decoders give back (envelope.ts).
      const { id_assigned: _assigned, ...plain } = e
      expect(decodeEvent(encodeEvent(e))).toEqual(plain)
    }
  })

  it('flags ids the server assigned in the envelope, and only those', () => {
    expect(encodeEvent(sample({ event: 'spin', user_id: '1' }))[17]! & 2).toBe(2)
    expect(encodeEvent(sample({ event: 'spin', user_id: '1', event_id: 'mine' }))[17]! & 2).toBe(0)
  })

  it('is much smaller than the JSON envelope', () => {
    const e = sample({ event: 'spin', user_id: '1234', bet: 10 })
    expect(encodeEvent(e).length).toBeLessThan(Buffer.byteLength(JSON.stringify(e)) * 0.6)
  })

  it('reads JSON events too, as another producer writes them, given their log position (test/events/json-record.test.ts)', () => {
    const raw = { event: 'spin', user_id: '1', tenant: 'acme', bet: 1 }
    const at = { partition: 2, offset: 40, timestamp: Date.UTC(2026, 10, 1) }
    expect(decodeEvent(Buffer.from(JSON.stringify(raw)), at)).toEqual(sample({ ...raw, event_id: 'events:2:40' }))
    expect(() => decodeEvent(Buffer.from(JSON.stringify(raw)))).toThrow(/log position/)
  })

  it('rejects an unknown encoding', () => {
    expect(() => decodeEvent(Buffer.from([9, 0, 0]))).toThrow(/unknown event encoding 9/)
  })

  it('encodes independent buffers (the scratch buffer is not shared)', () => {
    const a = encodeEvent(sample({ event: 'a', user_id: '1' }))
    const b = encodeEvent(sample({ event: 'b', user_id: '2' }))
    expect(decodeEvent(a).event).toBe('a')
    expect(decodeEvent(b).event).toBe('b')
  })
})
