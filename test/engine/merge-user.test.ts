import { describe, expect, it } from 'vitest'
import { mergeUser } from '../../src/engine/merge-user.ts'
import { PartitionEngine } from '../../src/engine/partition-engine.ts'
import { buildProfile } from '../../src/engine/profile.ts'
import { decodeUser, encodeUser } from '../../src/engine/user-snapshot.ts'
import { mulberry32 } from '../support/prng.ts'
import { changes, ev, HOUR, MIN, rules, T0 } from './helpers.ts'

// Every aggregate, windowed and lifetime, and every kind of trait: what an identity merge combines.
const YAML = `
traits:
  plan: string
  score: number
  spent: { compute: sum(purchase.amount) }
segments:
  s1:
    when: count(spin, 30m) >= 3 and sum(purchase.amount, 1h) > 5 and avg(spin.bet, 2h) > 2
  s2:
    when: min(spin.bet, 45m) < 2 or max(purchase.amount, 1h) > 8 or distinct(spin.machine, 10m) >= 3
  s3:
    when: count(login) > 2 and sum(purchase.amount) > 1 and min(purchase.amount) < 3 and max(spin.bet) > 4 and avg(spin.bet) > 1 and distinct(spin.machine) > 1
`

/**
 * The reference for a merge is the definition: two ids' states merged at time T equal one id's
 * state after the same events, at T (issue 18, item 4: "combined as if the events had arrived under
 * one id"). Generated events, split at random between the two ids.
 */
describe('mergeUser', () => {
  it('gives the state of one user who had every event, for every aggregate and trait', () => {
    const rand = mulberry32(4)
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
    for (let round = 0; round < 100; round++) {
      const r = rules(YAML)
      const one = new PartitionEngine(r.rules, r.options)
      const two = new PartitionEngine(r.rules, r.options)
      let t = T0
      const n = 5 + Math.floor(rand() * 80)
      for (let i = 0; i < n; i++) {
        t += Math.floor(rand() * 2 * MIN)
        const name = pick(['spin', 'spin', 'purchase', 'login', 'identify'])
        const props: Record<string, unknown> =
          name === 'spin'
            ? { bet: pick([1, 2, 3, 5, 8, -1]), machine: pick(['a', 'b', 'c', 'd', 'e']) }
            : name === 'purchase'
              ? { amount: pick([0.5, 2.25, 4.99, 9.99, -1]) }
              : name === 'identify'
                ? { plan: pick(['free', 'pro', 'team']), score: pick([1, 7, 3.5]), country: pick(['TR', 'DE']) }
                : {}
        // Now and then an event a little in the past, as clients send them.
        const ts = rand() < 0.15 ? t - Math.floor(rand() * 20 * MIN) : t
        one.process(ev(name, 'alice', ts, props))
        two.process(ev(name, rand() < 0.5 ? 'alice' : 'devA', ts, props))
      }
      // Read soon after the last event, while the windows hold most of it, and now and then later.
      const T = t + Math.floor(rand() * (rand() < 0.8 ? 10 * MIN : 2 * HOUR))
      one.advanceTo(T)
      two.advanceTo(T)
      const alice = two.getUser('default', 'alice')
      const devA = two.getUser('default', 'devA')
      const into = alice ?? devA!
      if (alice !== undefined && devA !== undefined) mergeUser(alice, devA, r.rules)
      const want = buildProfile(one.getUser('default', 'alice')!, r.rules, r.options, T)
      const got = buildProfile(into, r.rules, r.options, T)
      expect({ ...got, user_id: 'alice', segments: [] }, `round ${round}`).toEqual({ ...want, segments: [] })
    }
  })

  it("keeps a distinct value's latest bucket from either side, so it leaves the window when its last sighting does", () => {
    const r = rules('segments:\n  a:\n    when: distinct(spin.machine, 10m) >= 1\n')
    const e = new PartitionEngine(r.rules, r.options)
    e.process(ev('spin', 'alice', T0, { machine: 'm1' }))
    e.process(ev('spin', 'devA', T0 + 8 * MIN, { machine: 'm1' }))
    mergeUser(e.getUser('default', 'alice')!, e.getUser('default', 'devA')!, r.rules)
    const at = (t: number) => buildProfile(e.getUser('default', 'alice')!, r.rules, r.options, t).metrics['distinct(spin.machine, 10m)']
    expect(at(T0 + 12 * MIN)).toBe(1)
    expect(at(T0 + 19 * MIN)).toBe(0)
  })

  it('refuses to merge states of different aggregates or windows', () => {
    const r = rules('segments:\n  a:\n    when: count(spin, 1h) > 0 and sum(spin.bet, 1h) > 0\n')
    const e = new PartitionEngine(r.rules, r.options)
    e.process(ev('spin', 'u', T0, { bet: 1 }))
    const [count, sum] = e.getUser('default', 'u')!.metrics
    expect(() => count!.merge(sum!)).toThrow('cannot merge a sum window into a count window')
  })
})

describe('release and absorb: an identity merge inside the engine', () => {
  const YAML2 = 'segments:\n  spinner:\n    when: count(spin, 1h) >= 3\n  buyer:\n    when: sum(purchase.amount) > 10\n'

  it('takes the absorbed id out with its exits, gives the person its history with the entries it earns, and keeps a redirect', () => {
    const r = rules(YAML2)
    const e = new PartitionEngine(r.rules, r.options)
    const reference = new PartitionEngine(r.rules, r.options)
    const sent: Array<[string, string, number, Record<string, unknown>]> = [
      ['spin', 'devA', T0, {}],
      ['spin', 'devA', T0 + MIN, {}],
      ['purchase', 'alice', T0 + 2 * MIN, { amount: 6 }],
      ['spin', 'devA', T0 + 3 * MIN, {}],
      ['purchase', 'devA', T0 + 4 * MIN, { amount: 5 }],
    ]
    for (const [name, user, ts, props] of sent) {
      e.process(ev(name, user, ts, props))
      reference.process(ev(name, 'alice', ts, props))
    }
    expect(changes(e)).toEqual([['devA', 'spinner', 'entered', 3]])
    e.takeDirty()

    const devA = e.release('default', 'devA', 'alice')!
    expect(changes(e)).toEqual([['devA', 'spinner', 'exited', 4]])
    e.absorb('default', 'alice', 'devA', devA)
    expect(changes(e)).toEqual([
      ['alice', 'spinner', 'entered', 4],
      ['alice', 'buyer', 'entered', 4],
    ])
    expect(e.sizes.get('default')).toEqual(
      new Map([
        ['spinner', 1],
        ['buyer', 1],
      ]),
    )
    expect(e.getUser('default', 'devA')).toBeUndefined()
    expect(e.redirectOf('default', 'devA')).toBe('alice')
    const T = T0 + 5 * MIN
    const merged = buildProfile(e.getUser('default', 'alice')!, r.rules, r.options, T)
    const one = buildProfile(reference.getUser('default', 'alice')!, r.rules, r.options, T)
    expect({ ...merged, segments: [] }).toEqual({ ...one, segments: [] })
    expect(merged.segments.map((x) => x.segment)).toEqual(one.segments.map((x) => x.segment))

    // The checkpoint writes the person and the redirect; a restored engine has both, and no devA user.
    const dirty = e.takeDirty()
    expect(dirty.map((u) => [u.userId, u.redirectTo])).toEqual([
      ['devA', 'alice'],
      ['alice', null],
    ])
    const restored = new PartitionEngine(r.rules, r.options)
    for (const u of dirty) restored.restoreUser(decodeUser(encodeUser(u, r.rules), r.rules))
    expect(restored.redirectOf('default', 'devA')).toBe('alice')
    expect(restored.getUser('default', 'devA')).toBeUndefined()
    expect(restored.userCount).toBe(1)
    expect(restored.sizes.get('default')).toEqual(
      new Map([
        ['spinner', 1],
        ['buyer', 1],
      ]),
    )
    // Nothing to release twice.
    expect(e.release('default', 'devA', 'alice')).toBeNull()
  })
})
