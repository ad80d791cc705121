import { describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS, formatEventError, validateEvent, type TrackedEvent, type ValidationContext, type ValidationResult } from '../../src/events/index.ts'

/*
 * The collector's time model for clients whose clocks are wrong (docs/events.md#event-time):
 * correction by sent_at, no event time later than the receive time, the client's value kept as
 * original_ts, and no server clock at all for replay.
 */

const now = Date.UTC(2026, 10, 1, 12, 0, 0)
const S = 1000
const M = 60 * S
const H = 60 * M

function ok(r: ValidationResult): TrackedEvent {
  if (!r.ok) throw new Error(formatEventError(r.error))
  return r.event
}
function err(r: ValidationResult): string {
  if (r.ok) throw new Error(`expected a rejection, got ts ${new Date(r.event.ts).toISOString()}`)
  return formatEventError(r.error)
}
/** The event's time and its properties, compared exactly (toMatchObject would let an extra original_ts through). */
const timeOf = (r: ValidationResult) => {
  const e = ok(r)
  return { ts: e.ts, properties: e.properties }
}
const at = (raw: Record<string, unknown>, ctx: ValidationContext = {}) => validateEvent({ event: 'spin', user_id: 'u', ...raw }, { receivedAt: now, ...ctx })

describe('event time: no later than the receive time', () => {
  it('clamps a time ahead of the receive time to it, keeping the client value as original_ts', () => {
    const e = ok(at({ ts: now + 23 * H, bet: 5 }))
    expect(e.ts).toBe(now)
    expect(e.received_at).toBe(now)
    expect(e.properties).toEqual({ bet: 5, original_ts: now + 23 * H })
  })

  it('clamps even one millisecond ahead, and an ISO-8601 time too', () => {
    expect(ok(at({ ts: now + 1 })).properties).toEqual({ original_ts: now + 1 })
    const e = ok(at({ ts: '2026-11-01T13:00:00+01:00' }))
    expect(e.ts).toBe(now)
    expect(e.properties).toEqual({})
    const later = ok(at({ ts: '2026-11-01T12:30:00.250Z' }))
    expect([later.ts, later.properties.original_ts]).toEqual([now, now + 30 * M + 250])
  })

  it('leaves a time at or before the receive time alone, with no original_ts', () => {
    expect(timeOf(at({ ts: now }))).toEqual({ ts: now, properties: {} })
    expect(timeOf(at({ ts: now - 3 * H }))).toEqual({ ts: now - 3 * H, properties: {} })
    expect(timeOf(at({}))).toEqual({ ts: now, properties: {} })
  })

  it('still rejects a time more than 24 hours ahead', () => {
    expect(err(at({ ts: now + 24 * H + 1 }))).toBe('ts: is more than 24h in the future')
    expect(ok(at({ ts: now + 24 * H })).ts).toBe(now)
  })

  it("keeps a client's own original_ts when the time is not changed, and replaces it when it is", () => {
    expect(ok(at({ ts: now - M, original_ts: 'mine' })).properties).toEqual({ original_ts: 'mine' })
    const e = ok(at({ original_ts: 'mine', ts: now + M, z: 1 }))
    expect(e.properties).toEqual({ original_ts: now + M, z: 1 })
  })
})

describe('event time: corrected by sent_at', () => {
  it('shifts ts by received_at − sent_at (a client clock one hour ahead)', () => {
    // Stamped 5 minutes before the batch was sent, by a clock running an hour fast.
    const e = ok(at({ ts: now + H - 5 * M, sent_at: now + H }))
    expect(e.ts).toBe(now - 5 * M)
    expect(e.properties).toEqual({ original_ts: now + H - 5 * M })
  })

  it('corrects a clock that is behind, and one days ahead that today would be refused', () => {
    expect(ok(at({ ts: now - 3 * H - 10 * S, sent_at: now - 3 * H })).ts).toBe(now - 10 * S)
    const e = ok(at({ ts: now + 5 * 24 * H - 2 * S, sent_at: now + 5 * 24 * H }))
    expect(e.ts).toBe(now - 2 * S)
    expect(e.properties.original_ts).toBe(now + 5 * 24 * H - 2 * S)
  })

  it('reads sent_at as ISO-8601 or epoch ms, like ts, and never keeps it as a property', () => {
    const e = ok(at({ ts: '2026-11-01T13:59:00Z', sent_at: '2026-11-01T14:00:00.000Z', x: 1 }))
    expect(e.ts).toBe(now - M)
    expect(e.properties).toEqual({ x: 1, original_ts: now + 2 * H - M })
    expect(ok(at({ sent_at: now - H })).properties).toEqual({})
  })

  it('gives an event without ts the receive time, with no original_ts', () => {
    expect(timeOf(at({ sent_at: now + 7 * H }))).toEqual({ ts: now, properties: {} })
  })

  it("takes the request's sent_at when the event has none; the event's own wins", () => {
    expect(ok(at({ ts: now + 2 * H - M }, { sentAt: now + 2 * H })).ts).toBe(now - M)
    expect(ok(at({ ts: now + 2 * H - M, sent_at: now + 2 * H - 30 * S }, { sentAt: now + 2 * H })).ts).toBe(now - 30 * S)
    // null is no value, as for ts: the request's applies.
    expect(ok(at({ ts: now + 2 * H - M, sent_at: null }, { sentAt: now + 2 * H })).ts).toBe(now - M)
  })

  it('adds no original_ts when the correction changes nothing', () => {
    expect(timeOf(at({ ts: now - M, sent_at: now }))).toEqual({ ts: now - M, properties: {} })
  })

  it('clamps a corrected time that is still ahead of the receive time', () => {
    // The client says the event happened 10 minutes after it sent the batch: impossible, clamped.
    const e = ok(at({ ts: now - H + 10 * M, sent_at: now - H }))
    expect(e.ts).toBe(now)
    expect(e.properties.original_ts).toBe(now - H + 10 * M)
  })

  it.each([
    [{ sent_at: 'yesterday' }, 'sent_at: "yesterday" is not an ISO-8601 date-time'],
    [{ sent_at: 1_700_000_000 }, 'sent_at: looks like epoch seconds; send epoch milliseconds or an ISO-8601 string'],
    [{ sent_at: true }, 'sent_at: must be an ISO-8601 string or epoch milliseconds'],
    [{ sent_at: '2026-02-30T00:00:00Z' }, 'sent_at: "2026-02-30T00:00:00Z" is not a valid calendar date-time'],
    [{ sent_at: -5 }, 'sent_at: must be after 2000-01-01T00:00:00Z'],
    [{ ts: 'soon', sent_at: 'yesterday' }, 'ts: "soon" is not an ISO-8601 date-time'],
    [{ ts: now + 25 * H, sent_at: now }, 'ts: is more than 24h in the future (corrected by sent_at)'],
    [{ ts: Date.UTC(2000, 0, 2), sent_at: Date.UTC(2030, 0, 1) }, 'ts: is before 2000-01-01T00:00:00Z once corrected by sent_at'],
  ])('rejects %j with a precise error', (raw, message) => {
    expect(err(at(raw))).toBe(message)
  })
})

describe('event time without a server clock (tagstream replay)', () => {
  const replay: ValidationContext = { limits: { ...DEFAULT_LIMITS, maxFutureMs: Number.POSITIVE_INFINITY }, receivedAt: 0 }

  it("keeps file times exactly with replay's limits (maxFutureMs: Infinity)", () => {
    const e = ok(at({ ts: now + 23 * H }, replay))
    expect({ ts: e.ts, properties: e.properties }).toEqual({ ts: now + 23 * H, properties: {} })
    // sent_at is still the client's clock, not a property, and changes nothing.
    expect(timeOf(at({ ts: now, sent_at: now + H, x: 1 }, replay))).toEqual({ ts: now, properties: { x: 1 } })
    expect(err(at({ ts: now, sent_at: 'x' }, replay))).toBe('sent_at: "x" is not an ISO-8601 date-time')
  })

  it('keeps file times with serverClock: false and finite limits, still bounded by maxFutureMs', () => {
    expect(timeOf(at({ ts: now + 23 * H, sent_at: now }, { serverClock: false }))).toEqual({ ts: now + 23 * H, properties: {} })
    expect(err(at({ ts: now + 25 * H }, { serverClock: false }))).toBe('ts: is more than 24h in the future')
  })

  it('clamps with Infinity limits when serverClock is said to be true', () => {
    expect(ok(at({ ts: now + 100 * 24 * H }, { limits: replay.limits!, serverClock: true })).ts).toBe(now)
  })
})
