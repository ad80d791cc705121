import { describe, expect, it } from 'vitest'
import { PartitionEngine } from '../../src/engine/partition-engine.ts'
import { buildProfile, matchesTraits } from '../../src/engine/profile.ts'
import { decodeUser, encodeUser } from '../../src/engine/user-snapshot.ts'
import type { UserState } from '../../src/engine/user-state.ts'
import { changes, ev, HOUR, MIN, rules, T0 } from './helpers.ts'
import { mulberry32 } from '../support/prng.ts'

const DAY = 24 * HOUR

const YAML = `
traits:
  plan: string
  partner_id: { type: string, from: [identify, page] }
  campaign: { type: string, property: context.campaign.name }
  age: number
  vip: boolean
  signed_up_at: { type: timestamp, from: identify }
  lifetime_value: { compute: sum(purchase.amount) }
segments:
  acme_pro:
    when: partner_id = "acme" and plan = "pro"
  big_spender:
    when: lifetime_value > 100
  new_signup:
    when: since(signed_up_at) < 7d
`

function setup(yaml = YAML): { e: PartitionEngine; r: ReturnType<typeof rules> } {
  const r = rules(yaml)
  return { e: new PartitionEngine(r.rules, r.options), r }
}

function userOf(e: PartitionEngine, id: string): UserState {
  return e.tenants.get('default')!.get(id)!
}

describe('declared traits on the profile', () => {
  it('copies typed values from the named events and paths, computes aggregates, and tags on them', () => {
    const { e, r } = setup()
    e.process(ev('identify', 'a', T0, { plan: 'pro', partner_id: 17, age: 31, vip: true, signed_up_at: '2026-11-01T09:00:00.000Z' }))
    e.process(ev('track', 'a', T0 + MIN, { partner_id: 'ignored: not from identify or page', context: { campaign: { name: 'spring' } } }))
    e.process(ev('identify', 'a', T0 + 2 * MIN, { partner_id: 'acme', age: 'thirty', vip: 'yes' }))
    e.process(ev('purchase', 'a', T0 + 3 * MIN, { amount: 60 }))
    e.process(ev('purchase', 'a', T0 + 4 * MIN, { amount: 45.5 }))
    const p = buildProfile(userOf(e, 'a'), r.rules, r.options, T0 + 5 * MIN)
    expect(p.traits).toMatchObject({
      plan: 'pro',
      partner_id: 'acme',
      campaign: 'spring',
      // Wrong types leave the value as it was.
      age: 31,
      vip: true,
      signed_up_at: Date.UTC(2026, 10, 1, 9),
      lifetime_value: 105.5,
    })
    // Built-ins first, then declared traits in the order written.
    expect(Object.keys(p.traits).slice(-7)).toEqual(['plan', 'partner_id', 'campaign', 'age', 'vip', 'signed_up_at', 'lifetime_value'])
    expect(changes(e)).toEqual([
      ['a', 'new_signup', 'entered', 0],
      ['a', 'acme_pro', 'entered', 2],
      ['a', 'big_spender', 'entered', 4],
    ])
  })

  it('untags when a timestamp trait ages past its threshold, with no event of the user', () => {
    const { e } = setup()
    const signup = T0 - 6 * DAY
    e.process(ev('identify', 'a', T0, { signed_up_at: signup }))
    e.process(ev('page', 'b', signup + 7 * DAY + 2))
    expect(changes(e)).toEqual([
      ['a', 'new_signup', 'entered', 0],
      ['a', 'new_signup', 'exited', (signup + 7 * DAY - T0) / MIN],
    ])
  })

  it('matches declared traits in a profile search', () => {
    const { e, r } = setup()
    e.process(ev('identify', 'a', T0, { plan: 'pro', age: 40 }))
    e.process(ev('identify', 'b', T0, { plan: 'free', age: 20 }))
    const hit = (u: string, where: Parameters<typeof matchesTraits>[1]) => matchesTraits(userOf(e, u), where, r.rules, r.options, T0)
    expect(hit('a', [{ trait: 'plan', op: '=', value: 'pro' }])).toBe(true)
    expect(hit('b', [{ trait: 'plan', op: '=', value: 'pro' }])).toBe(false)
    expect(hit('a', [{ trait: 'age', op: '>', value: 30 }])).toBe(true)
    expect(hit('b', [{ trait: 'age', op: '>', value: 30 }])).toBe(false)
    expect(hit('b', [{ trait: 'vip', op: '=', value: 'true' }])).toBe(false)
  })

  it('survives a checkpoint, and drops a trait the rules no longer declare', () => {
    const { e, r } = setup()
    e.process(ev('identify', 'a', T0, { plan: 'pro', vip: false, context: { campaign: { name: 'x' } } }))
    const bytes = encodeUser(userOf(e, 'a'), r.rules)
    const back = decodeUser(bytes, r.rules)
    expect(buildProfile(back, r.rules, r.options, T0).traits).toEqual(buildProfile(userOf(e, 'a'), r.rules, r.options, T0).traits)
    // An older event after the restore does not win over the restored value.
    const fewer = rules('traits:\n  plan: string\n  vip: string\n')
    const narrowed = decodeUser(bytes, fewer.rules)
    expect(narrowed.custom).toEqual({ plan: 'pro' })
  })
})

/**
 * An independent reference for the rule "the latest event time wins, the greater value at equal
 * times; only values of the trait's type count": events with random times, values and types, fed
 * in random order.
 */
describe('declared traits against a reference', () => {
  it('gives the reference value whatever the arrival order', () => {
    const rand = mulberry32(18)
    const yaml = 'traits:\n  tier: string\n  score: number\n  opted_in: { type: boolean, from: identify }\n'
    for (let round = 0; round < 40; round++) {
      const events = Array.from({ length: 1 + Math.floor(rand() * 30) }, () => {
        const name = rand() < 0.5 ? 'identify' : 'track'
        const props: Record<string, unknown> = {}
        const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!
        if (rand() < 0.7) props.tier = pick(['gold', 'silver', 'bronze', 3, true, null, 'x'.repeat(1025)])
        if (rand() < 0.7) props.score = pick([1, 2.5, -4, '7', false, null])
        if (rand() < 0.7) props.opted_in = pick([true, false, 'true', 0])
        return { name, ts: T0 + Math.floor(rand() * 5) * MIN, props }
      })
      const expected = reference(events)
      const { e, r } = setup(yaml)
      // Arrival order is random; every event is within the allowed lateness, so none is dropped.
      const shuffled = [...events].sort(() => rand() - 0.5)
      for (const x of shuffled) e.process(ev(x.name, 'u', x.ts, x.props))
      const { tier, score, opted_in } = buildProfile(userOf(e, 'u'), r.rules, r.options, T0 + HOUR).traits
      expect({ tier, score, opted_in }, `round ${round}`).toEqual(expected)
    }
  })
})

function reference(events: Array<{ name: string; ts: number; props: Record<string, unknown> }>): Record<string, string | number | boolean | null> {
  const out: Record<string, { v: string | number | boolean; t: number } | undefined> = {}
  const take = (k: string, v: string | number | boolean | null, t: number) => {
    if (v === null) return
    const cur = out[k]
    if (cur === undefined || t > cur.t || (t === cur.t && v > cur.v)) out[k] = { v, t }
  }
  for (const { name, ts, props } of events) {
    const tier = props.tier
    take('tier', typeof tier === 'string' && tier.length <= 1024 ? tier : typeof tier === 'number' ? String(tier) : null, ts)
    take('score', typeof props.score === 'number' ? props.score : null, ts)
    if (name === 'identify') take('opted_in', typeof props.opted_in === 'boolean' ? props.opted_in : null, ts)
  }
  return { tier: out.tier?.v ?? null, score: out.score?.v ?? null, opted_in: out.opted_in?.v ?? null }
}
