import { describe, expect, it } from 'vitest'
import { CLICK_EVENTS, PARTNERS, clickstreamEvents, partnerKeys, resolveClickstreamOptions, spreadClock, type RawEvent } from '../../src/sim/index.ts'

const END = Date.UTC(2026, 10, 1, 12)
const HOUR = 3_600_000

function take(n: number, seed = 0, extra: Record<string, number> = {}): RawEvent[] {
  const it = clickstreamEvents({ seed, ...extra }, spreadClock(END, 3 * HOUR, n))
  return Array.from({ length: n }, () => it.next().value as RawEvent)
}

describe('clickstream generator (seed 004)', () => {
  const events = take(10_000)

  it('is deterministic: the same seed gives the same events, another seed others', () => {
    expect(take(10_000)).toEqual(events)
    const other = take(10_000, 1)
    expect(other).not.toEqual(events)
    expect(other.length).toBe(events.length)
  })

  it('spreads event times evenly over the range, in order, ending at the end', () => {
    expect(events[0]!.ts).toBeGreaterThan(END - 3 * HOUR)
    expect(events.at(-1)!.ts).toBe(END)
    for (let i = 1; i < events.length; i++) expect(events[i]!.ts).toBeGreaterThanOrEqual(events[i - 1]!.ts)
  })

  it("emits seed 004's event names and fields", () => {
    const names = new Set(events.map((e) => e.event))
    expect([...names].sort()).toEqual([...CLICK_EVENTS].sort())
    for (const e of events) {
      expect(e).toMatchObject({
        version: '1.0',
        partner_id: expect.any(String),
        partner_name: expect.any(String),
        country: expect.stringMatching(/^[A-Z]{2}$/),
        language: expect.stringMatching(/^[a-z]{2}_[A-Z]{2}$/),
      })
      expect(e.session_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}_\d{10}$/)
      expect(e.user_id).toMatch(/^[0-9a-f]{13}\.\d{10}$/)
      if (e.event === 'search') expect(e.search_query).toEqual(expect.any(String))
      if (e.event === 'add_to_cart') expect(e.cart_amount).toBeGreaterThanOrEqual(e.price as number)
    }
  })

  it('opens each session with a page view and buys exactly the cart it filled', () => {
    const sessions = new Map<string, RawEvent[]>()
    for (const e of events) sessions.set(e.session_id as string, [...(sessions.get(e.session_id as string) ?? []), e])
    let bought = 0
    let abandoned = 0
    for (const list of sessions.values()) {
      expect(list[0]).toMatchObject({ event: 'page_view', init_session: 1 })
      expect(list.slice(1).every((e) => e.init_session === undefined)).toBe(true)
      expect(new Set(list.map((e) => e.user_id)).size).toBe(1)
      expect(new Set(list.map((e) => e.user_agent)).size).toBe(1)
      const carts = list.filter((e) => e.event === 'add_to_cart')
      const purchase = list.filter((e) => e.event === 'purchase')
      expect(purchase.length).toBeLessThanOrEqual(1)
      if (purchase.length === 1) {
        bought++
        expect(list.at(-1)).toBe(purchase[0])
        const total = carts.reduce((s, e) => s + Math.round((e.price as number) * 100), 0) / 100
        expect(purchase[0]).toMatchObject({ amount: total, cart_amount: total, items: carts.length })
      } else if (carts.length > 0 && list.at(-1)!.ts < END - HOUR) abandoned++
    }
    // Some carts are bought, more are abandoned (what a cart push is for).
    expect(bought).toBeGreaterThan(100)
    expect(abandoned).toBeGreaterThan(bought)
  })

  it("keeps a visitor's locale across sessions and lets some use several devices", () => {
    const byUser = new Map<string, { locales: Set<string>; agents: Set<string>; sessions: Set<string> }>()
    for (const e of events) {
      const u = byUser.get(e.user_id) ?? { locales: new Set(), agents: new Set(), sessions: new Set() }
      u.locales.add(`${e.country}/${e.language}`)
      u.agents.add(e.user_agent as string)
      u.sessions.add(e.session_id as string)
      byUser.set(e.user_id, u)
    }
    const users = [...byUser.values()]
    expect(users.every((u) => u.locales.size === 1)).toBe(true)
    expect(users.filter((u) => u.sessions.size > 1).length).toBeGreaterThan(100)
    expect(users.filter((u) => u.agents.size > 1).length).toBeGreaterThan(50)
  })

  it("weights the partners' traffic and keeps their visitors apart", () => {
    const share = (name: string) => events.filter((e) => e.partner_name === name).length / events.length
    expect(share(PARTNERS[0]!.name)).toBeGreaterThan(share(PARTNERS[1]!.name))
    expect(share(PARTNERS[1]!.name)).toBeGreaterThan(share(PARTNERS[2]!.name))
    expect(share(PARTNERS[3]!.name)).toBe(0)
    const partnersOf = new Map<string, Set<unknown>>()
    for (const e of events) partnersOf.set(e.user_id, (partnersOf.get(e.user_id) ?? new Set()).add(e.partner_id))
    expect([...partnersOf.values()].every((s) => s.size === 1)).toBe(true)
  })

  it('names partners beyond its list', () => {
    const many = take(5_000, 0, { partners: 8, sessions: 200 })
    expect(new Set(many.map((e) => e.partner_name)).size).toBe(8)
    expect(many.some((e) => e.partner_name === 'partner8')).toBe(true)
  })

  it('maps partners to keys: one key for all, or partner i to key i mod keys', () => {
    const one = partnerKeys(3, ['k'])
    expect(new Set(events.map(one))).toEqual(new Set(['k']))
    const each = partnerKeys(3, ['a', 'b', 'c'])
    for (const e of events) expect(each(e)).toBe(['a', 'b', 'c'][PARTNERS.findIndex((p) => p.id === e.partner_id)])
    expect(() => partnerKeys(3, [])).toThrow('at least one API key')
  })

  it("refuses bad options with the option's name", () => {
    expect(() => resolveClickstreamOptions({ partners: 0 })).toThrow('partners must be an integer from 1 to 1000, got 0')
    expect(() => resolveClickstreamOptions({ sessions: 1.5 })).toThrow('sessions must be an integer from 1 to 100000, got 1.5')
    expect(() => resolveClickstreamOptions({ seed: -1 })).toThrow('seed must be an integer from 0 to 4294967295, got -1')
  })
})
