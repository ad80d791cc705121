import { describe, expect, it } from 'vitest'
import { buildProfile } from '../../src/engine/profile.ts'
import { Replay } from '../../src/engine/replay.ts'
import type { PartitionEngine } from '../../src/engine/partition-engine.ts'
import { decodeIdentityRecord, encodeIdentityRecord } from '../../src/engine/identity-record.ts'
import { mulberry32 } from '../support/prng.ts'
import { MIN, rules, T0 } from './helpers.ts'

const YAML = `
traits:
  plan: string
segments:
  spinner:
    when: count(spin, 30m) >= 4
  buyer:
    when: sum(purchase.amount) > 10 and distinct(spin.machine, 1h) >= 2
`

type Raw = Record<string, unknown>

/**
 * The reference (docs/identity.md): an anonymous id is linked to the first user id that names it
 * (as anonymous_id, or as an alias's previous_id) while it is still anonymous and that user id is
 * not itself absorbed; a person holds at most `maxIds` ids. Every event of a linked id then counts
 * as the person's, whenever it came. Worked out here in a plain loop with no engine code.
 */
function referenceOwners(events: Raw[], maxIds: number): Map<string, string> {
  const owner = new Map<string, string>()
  const known = new Set<string>()
  // Every id a person named (linked or refused) counts against the limit, with the person's own.
  const named = new Map<string, Set<string>>()
  for (const e of events) {
    const uid = e.user_id as string | undefined
    if (uid === undefined) continue
    // An absorbed id's events are its person's, in full: the ids they name are the person's to link.
    const person = owner.get(uid) ?? uid
    if (person === uid) known.add(uid)
    for (const id of [e.anonymous_id as string | undefined, e.event === 'alias' ? (e.previous_id as string) : undefined]) {
      if (id === undefined || id === uid || id === person) continue
      let mine = named.get(person)
      if (mine === undefined) named.set(person, (mine = new Set()))
      if (mine.has(id) || mine.size + 2 > maxIds) continue
      mine.add(id)
      if (!owner.has(id) && !known.has(id)) owner.set(id, person)
    }
  }
  return owner
}

function generate(seed: number): Raw[] {
  const rand = mulberry32(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
  const people = ['alice', 'bob', 'carol']
  const devices = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7']
  const out: Raw[] = []
  let t = T0
  for (let i = 0; i < 150; i++) {
    t += Math.floor(rand() * MIN)
    const who = rand()
    const action = rand() < 0.15 ? { event: 'purchase', amount: Math.round(rand() * 800) / 100 } : { event: 'spin', machine: pick(['m1', 'm2', 'm3']), plan: pick(['free', 'pro']) }
    if (who < 0.5) out.push({ ...action, anonymous_id: pick(devices), ts: t })
    else if (who < 0.8) out.push({ ...action, user_id: pick(people), ts: t })
    else if (who < 0.95) out.push({ event: 'identify', user_id: pick(people), anonymous_id: pick(devices), ts: t, plan: pick(['free', 'pro']) })
    else out.push({ event: 'alias', user_id: pick(people), previous_id: pick([...devices, ...people]), ts: t })
  }
  return out
}

function profiles(engines: readonly PartitionEngine[], T: number, r: ReturnType<typeof rules>) {
  const out: Record<string, unknown> = {}
  for (const e of engines) {
    for (const u of e.allUsers()) {
      const p = buildProfile(u, r.rules, r.options, T)
      out[u.userId] = { traits: p.traits, counts: p.counts, metrics: p.metrics, segments: p.segments.map((s) => s.segment) }
    }
  }
  return out
}

describe('identity links across partitions', () => {
  it('give each person the profile of one id that had all its ids’ events (generated, against the reference)', () => {
    for (let round = 0; round < 40; round++) {
      const r = rules(YAML, { identityMaxIds: 1 + (round % 4) + 1 })
      const events = generate(round + 1)
      const owners = referenceOwners(events, r.options.identityMaxIds)
      const partitions = 1 + (round % 5)
      const linked = new Replay(r.rules, r.options, partitions)
      events.forEach((e, i) => linked.push(e, i + 1))
      linked.finish()
      // The reference: every event under its owner's id, no anonymous_id left to link.
      const one = new Replay(r.rules, r.options, 1)
      events.forEach((e, i) => {
        const { anonymous_id, user_id, ...rest } = e as Raw & { anonymous_id?: string; user_id?: string }
        const id = user_id ?? anonymous_id!
        const rekeyed: Raw = { ...rest, user_id: owners.get(id) ?? id }
        if (rest.event === 'alias') delete rekeyed.previous_id
        one.push(rekeyed, i + 1)
      })
      one.finish()
      const T = Math.max(...linked.engines.map((e) => e.watermark))
      expect(profiles(linked.engines, T, r), `round ${round}, ${partitions} partitions`).toEqual(profiles(one.engines, T, r))
      // Each absorbed id redirects to its person; no absorbed id keeps a profile.
      for (const [id, person] of owners) {
        const at = linked.engines.find((e) => e.redirectOf('default', id) !== undefined)
        expect(at?.redirectOf('default', id), id).toBe(person)
      }
    }
  })

  it('refuse an alias between two user ids and count it, and keep both profiles', () => {
    const r = rules(YAML)
    const replay = new Replay(r.rules, r.options, 3)
    replay.push({ event: 'spin', user_id: 'alice', ts: T0 }, 1)
    replay.push({ event: 'spin', user_id: 'bob', ts: T0 + 1 }, 2)
    replay.push({ event: 'alias', user_id: 'alice', previous_id: 'bob', ts: T0 + 2 }, 3)
    replay.finish()
    const refused = replay.engines.reduce((n, e) => n + e.identity.stats.refused, 0)
    expect(refused).toBe(1)
    expect(replay.engines.flatMap((e) => [...e.allUsers()].map((u) => u.userId)).sort()).toEqual(['alice', 'bob'])
  })
})

describe('identity limits', () => {
  it('bound a person at 100 ids however many devices name it, and refuse the rest (a merge storm)', () => {
    const r = rules(YAML)
    const replay = new Replay(r.rules, r.options, 4)
    for (let i = 0; i < 500; i++) replay.push({ event: 'spin', anonymous_id: `bot-${i}`, ts: T0 + i }, 2 * i + 1)
    for (let i = 0; i < 500; i++) replay.push({ event: 'identify', user_id: 'bot', anonymous_id: `bot-${i}`, ts: T0 + 1000 + i }, 2 * i + 2)
    replay.finish()
    const bot = replay.engines.map((e) => e.getUser('default', 'bot')).find((u) => u !== undefined)!
    expect(bot.links!.size).toBe(99)
    expect(bot.counts.reduce((a, b) => a + (b ?? 0), 0)).toBe(500 + 99)
    expect(replay.engines.reduce((n, e) => n + e.identity.stats.refused, 0)).toBe(401)
    expect(replay.engines.reduce((n, e) => n + e.identity.stats.linked, 0)).toBe(99)
  })

  it('never loop: two ids naming each other, and aliases back the other way', () => {
    const r = rules(YAML)
    const replay = new Replay(r.rules, r.options, 3)
    const sent: Raw[] = [
      { event: 'spin', anonymous_id: 'x', ts: T0 },
      { event: 'spin', anonymous_id: 'y', ts: T0 + 1 },
      // x becomes a user id and absorbs y; then y (absorbed) names x, and x names y again.
      { event: 'identify', user_id: 'x', anonymous_id: 'y', ts: T0 + 2 },
      { event: 'identify', user_id: 'y', anonymous_id: 'x', ts: T0 + 3 },
      { event: 'alias', user_id: 'x', previous_id: 'y', ts: T0 + 4 },
      { event: 'alias', user_id: 'y', previous_id: 'x', ts: T0 + 5 },
    ]
    sent.forEach((e, i) => replay.push(e, i + 1))
    replay.finish()
    const users = replay.engines.flatMap((e) => [...e.allUsers()])
    expect(users.map((u) => [u.userId, [...(u.links ?? [])]])).toEqual([['x', [['y', 1]]]])
    expect(users[0]!.eventCount).toBe(6)
  })
})

describe('identity records', () => {
  it('round-trip, and a damaged one says what is wrong', () => {
    const rec = { source: 2, seq: 7, message: { kind: 'claim' as const, tenant: 'acme', id: 'devA', person: 'alice' } }
    const b = encodeIdentityRecord(rec)
    expect(decodeIdentityRecord(b, 0, b.length, 4)).toEqual(rec)
    expect(decodeIdentityRecord(b, 0, b.length, 2)).toEqual({ field: '(record)', reason: 'identity record from partition 2, of 2' })
    expect(decodeIdentityRecord(b, 0, 5, 4)).toMatchObject({ field: '(record)' })
    const bad = Buffer.from(b)
    bad[1] = 9
    expect(decodeIdentityRecord(bad, 0, bad.length, 4)).toEqual({ field: '(record)', reason: 'unknown identity record kind 9' })
  })
})
