import { describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS, formatEventError, uuid7, validateEvent, type ValidationResult } from '../../src/events/index.ts'

const now = Date.UTC(2026, 10, 1, 12, 0, 0)
const ok = (r: ValidationResult) => {
  if (!r.ok) throw new Error(formatEventError(r.error))
  return r.event
}
const err = (r: ValidationResult) => {
  if (r.ok) throw new Error('expected a rejection')
  return formatEventError(r.error)
}
const v = (raw: unknown) => validateEvent(raw, { receivedAt: now })

describe('validateEvent', () => {
  it('accepts the documented example', () => {
    const e = ok(v({ event: 'in_app_purchase', user_id: '17', ts: '2026-11-01T10:00:00Z', amount: 4.99, item: 'sword' }))
    expect(e).toMatchObject({
      event: 'in_app_purchase',
      user_id: '17',
      ts: Date.UTC(2026, 10, 1, 10),
      tenant: 'default',
      received_at: now,
      properties: { amount: 4.99, item: 'sword' },
    })
    expect(e.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })

  it("keeps client event ids, numeric user ids, nested properties and the key's tenant", () => {
    const e = ok(validateEvent({ event: 'join_guild', user_id: 42, event_id: 'abc', meta: { org: { name: 'x' } }, tags: [1, 'a'] }, { tenant: 'acme', receivedAt: now }))
    expect(e).toMatchObject({ user_id: '42', event_id: 'abc', tenant: 'acme', properties: { meta: { org: { name: 'x' } }, tags: [1, 'a'] } })
  })

  it('falls back to anonymous_id and defaults ts to receive time', () => {
    const e = ok(v({ event: 'page_view', anonymous_id: 'anon-1' }))
    expect(e.user_id).toBe('anon-1')
    expect(e.anonymous_id).toBe('anon-1')
    expect(e.ts).toBe(now)
  })

  it.each([
    ['2026-11-01T10:00:00.123Z', Date.UTC(2026, 10, 1, 10, 0, 0, 123)],
    ['2026-11-01T12:00:00+02:00', Date.UTC(2026, 10, 1, 10)],
    ['2026-11-01T05:30:00-0430', Date.UTC(2026, 10, 1, 10)],
    ['2026-11-01 10:00:00.082548 UTC', Date.UTC(2026, 10, 1, 10, 0, 0, 82)],
    ['2026-11-01T10:00:00', Date.UTC(2026, 10, 1, 10)],
    ['2026-11-01', Date.UTC(2026, 10, 1)],
    [Date.UTC(2026, 10, 1, 10), Date.UTC(2026, 10, 1, 10)],
  ])('reads event time %s', (ts, expected) => {
    expect(ok(v({ event: 'x', user_id: 'u', ts })).ts).toBe(expected)
  })

  it.each([
    [[1, 2], '(event): must be a JSON object'],
    [null, '(event): must be a JSON object'],
    [{ user_id: 'u' }, 'event: is required'],
    [{ event: 5, user_id: 'u' }, 'event: must be a string, got number'],
    [{ event: 'has space', user_id: 'u' }, 'event: must start with a letter or _'],
    [{ event: 'x' }, 'user_id: is required (or anonymous_id)'],
    [{ event: 'x', user_id: true }, 'user_id: must be a string or an integer, got boolean'],
    [{ event: 'x', user_id: '' }, 'user_id: must be 1 to 256 characters'],
    [{ event: 'x', user_id: 1.5 }, 'user_id: must be a string or an integer'],
    [{ event: 'x', user_id: 'u', ts: 'yesterday' }, 'ts: "yesterday" is not an ISO-8601 date-time'],
    [{ event: 'x', user_id: 'u', ts: '2026-02-30T00:00:00Z' }, 'ts: "2026-02-30T00:00:00Z" is not a valid calendar date-time'],
    [{ event: 'x', user_id: 'u', ts: 1_700_000_000 }, 'ts: looks like epoch seconds'],
    [{ event: 'x', user_id: 'u', ts: '2027-01-01T00:00:00Z' }, 'ts: is more than 24h in the future'],
    [{ event: 'x', user_id: 'u', ts: true }, 'ts: must be an ISO-8601 string or epoch milliseconds'],
    [{ event: 'x', user_id: 'u', event_id: 7 }, 'event_id: must be a string, got number'],
    [{ event: 'x', user_id: 'u', tenant: 'other' }, 'tenant: is set by the API key'],
    // eslint-disable-next-line no-loss-of-precision -- a number JSON.parse turns into Infinity
    [{ event: 'x', user_id: 'u', amount: 1e400 }, 'amount: number is out of range'],
    [{ event: 'x', user_id: 'u', big: 2 ** 60 }, 'big: integer is beyond 2^53'],
    [{ event: 'x', user_id: 'u', a: { b: { c: { d: { e: { f: 1 } } } } } }, 'a.b.c.d.e: nested deeper than 5 levels'],
    [{ event: 'x', user_id: 'u', s: 'x'.repeat(9000) }, 's: string longer than 8192 characters'],
    [{ event: 'x', user_id: 'u', o: { '': 1 } }, 'o.: property names must not be empty'],
    [JSON.parse('{"event":"x","user_id":"u","o":{"__proto__":{"polluted":1}}}'), 'o.__proto__: property name "__proto__" is not allowed'],
    [JSON.parse('{"event":"x","user_id":"u","__proto__":1}'), '__proto__: property name "__proto__" is not allowed'],
    // 128 characters (within maxKeyLength) but 256 bytes in UTF-8: more than the log's one-byte name length.
    [{ event: 'x', user_id: 'u', ['é'.repeat(128)]: 1 }, `${'é'.repeat(128)}: property name longer than 255 bytes in UTF-8`],
  ])('rejects %j with a message naming the field', (raw, message) => {
    expect(err(v(raw))).toContain(message)
  })

  it('limits the number of properties and the total size', () => {
    const many: Record<string, unknown> = { event: 'x', user_id: 'u' }
    for (let i = 0; i < 300; i++) many[`p${i}`] = i
    expect(err(v(many))).toContain('too many properties')
    const big: Record<string, unknown> = { event: 'x', user_id: 'u' }
    for (let i = 0; i < 8; i++) big[`s${i}`] = 'y'.repeat(8000)
    expect(err(v(big))).toBe(`(event): is larger than ${DEFAULT_LIMITS.maxEventBytes} bytes`)
  })
})

describe('uuid7', () => {
  it('is unique and ordered by time', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => uuid7(now + i))
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort()).toEqual(ids)
    expect(ids[0]!.slice(0, 13)).toBe(`${now.toString(16).padStart(12, '0').slice(0, 8)}-${now.toString(16).padStart(12, '0').slice(8)}`)
  })
})
