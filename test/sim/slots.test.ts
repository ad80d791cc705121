import { describe, expect, it } from 'vitest'
import { validateEvent } from '../../src/events/index.ts'
import { AMOUNTS, ITEMS, MACHINES, PURCHASE, SLOTS_DEFAULTS, SPIN, generateSlots, planSlots, resolveSlotsOptions, type SlotsEvent } from '../../src/sim/index.ts'

const SMALL = { users: 500, spins: 300_000, hours: 3, seed: 11 }

function countsBy(events: readonly SlotsEvent[], name: string): Map<number, number> {
  const counts = new Map<number, number>()
  for (const e of events) if (e.event === name) counts.set(Number(e.user_id), (counts.get(Number(e.user_id)) ?? 0) + 1)
  return counts
}

describe('generateSlots', () => {
  it('is deterministic for a seed and changes with the seed', () => {
    expect(generateSlots(SMALL)).toEqual(generateSlots(SMALL))
    expect(generateSlots({ ...SMALL, seed: 12 }).events).not.toEqual(generateSlots(SMALL).events)
  })

  it('caps spins at 199 beyond the top 20% and purchases at 1 beyond the top 2%, as seed 000 does', () => {
    const { events } = generateSlots(SMALL)
    const spins = countsBy(events, SPIN)
    const purchases = countsBy(events, PURCHASE)
    const capped = [...spins].filter(([u]) => u > SMALL.users / 5).map(([, n]) => n)
    expect(Math.max(...capped)).toBe(199)
    const top = [...spins].filter(([u]) => u <= SMALL.users / 5).map(([, n]) => n)
    expect(Math.min(...top)).toBeGreaterThan(199)
    expect(Math.max(...[...purchases].filter(([u]) => u > SMALL.users / 50).map(([, n]) => n))).toBe(1)
    expect(Math.max(...[...purchases].filter(([u]) => u <= SMALL.users / 50).map(([, n]) => n))).toBeGreaterThan(1)
    const ids = new Set(events.map((e) => e.user_id))
    expect([...ids].every((id) => /^[1-9]\d*$/.test(id) && Number(id) <= SMALL.users)).toBe(true)
  })

  it('keeps integer times within [end − hours, end] and sorts them in time order', () => {
    const end = Date.UTC(2026, 0, 2, 3, 4, 5, 6)
    const { events } = generateSlots({ ...SMALL, end, hours: 0.5 })
    expect(events.every((e) => Number.isInteger(e.ts) && e.ts <= end && e.ts >= end - 1_800_000)).toBe(true)
    expect(events.every((e, i) => i === 0 || events[i - 1]!.ts <= e.ts)).toBe(true)
    expect(events.at(-1)!.ts - events[0]!.ts).toBeGreaterThan(1_790_000)
  })

  it("writes purchases then spins in 'random' order, the same events as 'time' order", () => {
    const random = generateSlots({ ...SMALL, order: 'random' }).events
    const firstSpin = random.findIndex((e) => e.event === SPIN)
    expect(random.slice(0, firstSpin).every((e) => e.event === PURCHASE)).toBe(true)
    expect(random.slice(firstSpin).every((e) => e.event === SPIN)).toBe(true)
    expect(random.some((e, i) => i > 0 && random[i - 1]!.ts > e.ts)).toBe(true)
    const key = (e: SlotsEvent) => JSON.stringify(e)
    expect(random.map(key).sort()).toEqual(generateSlots(SMALL).events.map(key).sort())
  })

  it('moves only the times when --hours changes', () => {
    const a = generateSlots({ ...SMALL, order: 'random', hours: 1 }).events
    const b = generateSlots({ ...SMALL, order: 'random', hours: 2 }).events
    const strip = ({ ts: _ts, ...rest }: SlotsEvent) => rest
    expect(a.map(strip)).toEqual(b.map(strip))
  })

  it('produces events the collector accepts, with properties from the fixed sets', () => {
    const { events, end } = generateSlots({ users: 100, spins: 5000, seed: 3 })
    for (const e of events) {
      const v = validateEvent(e, { receivedAt: end })
      expect(v.ok, JSON.stringify(v)).toBe(true)
      if (e.event === SPIN) {
        expect(Number.isInteger(e.bet) && e.bet >= 1 && e.bet <= 100).toBe(true)
        expect(MACHINES).toContain(e.machine)
      } else {
        expect(AMOUNTS).toContain(e.amount)
        expect(ITEMS).toContain(e.item)
      }
    }
  })

  it('defaults to seed 000 scale ending at a fixed instant', () => {
    const plan = planSlots()
    expect(plan.options).toEqual(SLOTS_DEFAULTS)
    expect(plan.options.end).toBe(Date.UTC(2026, 10, 1, 12))
    // 1000 unlimited spinners share ~400k attempts; 4000 capped ones saturate at 199 spins each.
    expect(plan.count).toBeGreaterThan(1_150_000)
    expect(plan.count).toBeLessThan(1_250_000)
  })

  it('rejects bad options by name', () => {
    expect(() => resolveSlotsOptions({ users: 0 })).toThrow('users must be a positive integer, got 0')
    expect(() => resolveSlotsOptions({ spins: 1.5 })).toThrow('spins must be a non-negative integer, got 1.5')
    expect(() => resolveSlotsOptions({ hours: 2000 })).toThrow('hours must be a number of hours in (0, 1000], got 2000')
    expect(() => resolveSlotsOptions({ seed: -1 })).toThrow('seed must be an integer from 0 to 4294967295, got -1')
    expect(() => resolveSlotsOptions({ order: 'x' as 'time' })).toThrow('order must be "time" or "random", got "x"')
  })
})
