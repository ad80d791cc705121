import { describe, expect, it } from 'vitest'
import { validateEvent } from '../../src/events/index.ts'
import { eventNameOf, fromSegment, segmentError, type SegmentType } from '../../src/ingest/segment/message.ts'

function candidate(msg: unknown, type: SegmentType | null = null): Record<string, unknown> {
  const r = fromSegment(msg, type)
  if (!r.ok) throw new Error(`${r.error.field}: ${r.error.reason}`)
  return r.candidate
}

/** Validates what fromSegment made of msg and returns the error in the spec's names. */
function errorOf(msg: Record<string, unknown>, type: SegmentType | null = null): string {
  const r = validateEvent(candidate(msg, type), { receivedAt: Date.UTC(2026, 11, 1) })
  if (r.ok) throw new Error('valid')
  const e = segmentError(msg, type, r.error)
  return `${e.field}: ${e.reason}`
}

describe('eventNameOf', () => {
  it('keeps a name of our rule and normalises any other text', () => {
    expect(eventNameOf('in_app_purchase')).toBe('in_app_purchase')
    expect(eventNameOf('Order Completed')).toBe('Order_Completed')
    expect(eventNameOf('  Add to  cart!! ')).toBe('_Add_to_cart_')
    expect(eventNameOf('3D Touch')).toBe('_3D_Touch')
    expect(eventNameOf('Ödeme tamamlandı')).toBe('_deme_tamamland_')
    expect(eventNameOf('x'.repeat(300))).toHaveLength(128)
  })
})

describe('fromSegment', () => {
  it('reads a track call: ids, time, properties on top, context nested, delivery details dropped', () => {
    const c = candidate({
      type: 'track',
      event: 'Order Completed',
      userId: 'u1',
      anonymousId: 'd1',
      messageId: 'm1',
      timestamp: '2026-12-01T00:00:00Z',
      sentAt: '2026-12-01T00:00:01Z',
      receivedAt: '2030-01-01T00:00:00Z',
      properties: { revenue: 9.99, tenant: 'x', context: 'y' },
      context: { locale: 'tr-TR' },
      integrations: { All: true },
      _metadata: {},
      channel: 'server',
    })
    expect(c).toEqual({
      event: 'Order_Completed',
      original_event: 'Order Completed',
      user_id: 'u1',
      anonymous_id: 'd1',
      event_id: 'm1',
      ts: '2026-12-01T00:00:00Z',
      sent_at: '2026-12-01T00:00:01Z',
      revenue: 9.99,
      _tenant: 'x',
      _context: 'y',
      context: { locale: 'tr-TR' },
      channel: 'server',
    })
  })

  it('takes originalTimestamp when there is no timestamp, and the route type over the body type', () => {
    expect(candidate({ userId: 'u', originalTimestamp: 5, type: 'track', traits: { plan: 'pro' } }, 'identify')).toEqual({ event: 'identify', user_id: 'u', ts: 5, plan: 'pro' })
  })

  it("keeps a page's name once when its properties repeat it, and both when they differ", () => {
    expect(candidate({ type: 'page', userId: 'u', name: 'Home', category: 'Docs', properties: { category: 'Docs' } })).toEqual({ event: 'page', user_id: 'u', name: 'Home', category: 'Docs' })
    expect(candidate({ type: 'page', userId: 'u', name: 'Home', properties: { name: 'Other' } })).toEqual({ event: 'page', user_id: 'u', name: 'Home', _name: 'Other' })
  })

  it('refuses what is not a call of the spec', () => {
    expect(fromSegment('x', null)).toEqual({ ok: false, error: { field: '(event)', reason: 'must be a JSON object' } })
    expect(fromSegment({ type: 'page', userId: 'u', properties: 'x' }, null)).toEqual({ ok: false, error: { field: 'properties', reason: 'must be an object, got "x"' } })
    expect(fromSegment({ type: 'track', userId: 'u', event: 5 }, null)).toEqual({ ok: false, error: { field: 'event', reason: 'must be a string, got number' } })
    // An alias to itself (anonymous or not) links nothing (issue 18, item 5).
    const self = { ok: false, error: { field: 'previousId', reason: 'must differ from userId: an alias to itself links nothing' } }
    expect(fromSegment({ type: 'alias', userId: 'u', previousId: 'u' }, null)).toEqual(self)
    expect(fromSegment({ type: 'alias', anonymousId: 'd', previousId: 'd' }, null)).toEqual(self)
    expect(fromSegment({ type: 'alias', userId: 'u', previousId: 'd' }, null).ok).toBe(true)
  })
})

describe('segmentError', () => {
  it('names every field as the client sent it', () => {
    expect(errorOf({ type: 'identify', traits: { plan: 'pro' } })).toBe('userId: is required (or anonymousId)')
    expect(errorOf({ type: 'track', event: 'e', userId: 'u', originalTimestamp: 'soon' })).toBe('originalTimestamp: "soon" is not an ISO-8601 date-time')
    expect(errorOf({ type: 'track', event: 'e', userId: 'u', sentAt: 'soon' })).toBe('sentAt: "soon" is not an ISO-8601 date-time')
    expect(errorOf({ type: 'track', event: 'e', userId: 'u', properties: { tenant: { a: { b: { c: { d: { e: 1 } } } } } } })).toBe('properties.tenant.a.b.c.d: nested deeper than 5 levels')
    expect(errorOf({ type: 'identify', userId: 'u', traits: { n: 2 ** 60 } })).toMatch(/^traits\.n: integer is beyond 2\^53/)
    expect(errorOf({ type: 'track', event: 'e', userId: 'u', extra: { big: 2 ** 60 } })).toMatch(/^extra\.big: integer is beyond/)
    expect(errorOf({ type: 'alias', userId: 'u', previousId: 'x'.repeat(9000) })).toBe('previousId: string longer than 8192 characters')
  })
})
