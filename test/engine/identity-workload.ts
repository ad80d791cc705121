import { engineOptions } from '../../src/engine/engine-options.ts'
import { prepareRules } from '../../src/engine/engine-rules.ts'
import { buildProfile } from '../../src/engine/profile.ts'
import { decodeUser } from '../../src/engine/user-snapshot.ts'
import { expect } from 'vitest'
import { validateEvent, type TrackedEvent } from '../../src/events/index.ts'
import { TOPICS, type EventLog } from '../../src/log/event-log.ts'
import { parseRulesYaml } from '../../src/rules/index.ts'
import type { StateStore } from '../../src/state/state-store.ts'
import { readAll } from './outcome.ts'

// The identity crash tests' workload and their comparison by meaning, shared by the embedded
// (test/engine/identity-crash.test.ts) and the Kafka + workers (test/worker/identity-crash.test.ts) runs.

export const IDENTITY_RULES = `
segments:
  spinner:
    when: count(spin, 20m) >= 5
  regular:
    when: count(app_open) >= 3
`
const T0 = Date.UTC(2026, 10, 1, 10)

/** Anonymous devices, users, identify calls linking each device to its owner, and aliases between user ids (refused). */
export function identityPhase(seed: number, from: number, n: number): TrackedEvent[] {
  let s = seed
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32
  const out: TrackedEvent[] = []
  for (let i = 0; i < n; i++) {
    const ts = T0 + (from + i) * 100
    const device = `d${Math.floor(rnd() * 600)}`
    const user = `u${Math.floor(rnd() * 200)}`
    const r = rnd()
    const raw =
      r < 0.6
        ? { event: rnd() < 0.5 ? 'spin' : 'app_open', anonymous_id: device }
        : r < 0.9
          ? { event: 'spin', user_id: user }
          : r < 0.99
            ? // A device's one owner: two users claiming one device race (the first claim to reach
              // the device's partition wins, in any run), which this comparison cannot allow.
              { event: 'identify', user_id: `u${Number(device.slice(1)) % 200}`, anonymous_id: device }
            : { event: 'alias', user_id: user, previous_id: `u${Math.floor(rnd() * 200)}` }
    const v = validateEvent({ ...raw, ts, event_id: `e${from + i}` }, { receivedAt: ts })
    if (!v.ok) throw new Error(v.error.reason)
    out.push(v.event)
  }
  return out
}

/**
 * What a run leaves, compared by meaning: each user's profile (segment names, not since-when) and
 * links, each redirect, each user's final memberships by the change stream, and the identity
 * counters but the forwarded one. Where two partitions' identity records meet in a third, their
 * order in its log is a race in any run, and so is the watermark a merge happens at: the times of
 * changes a merge causes, and how many events were forwarded rather than merged, are not fixed by
 * the input. The change stream must still alternate entered, exited per user and segment: a change
 * applied twice would show.
 */
export async function identityOutcome(log: EventLog, store: StateStore, partitions: number) {
  const options = engineOptions()
  const rules = prepareRules(parseRulesYaml(IDENTITY_RULES), options)
  const users: Record<string, unknown> = {}
  const stats = { linked: 0, refused: 0, forwarded: 0 }
  for (let p = 0; p < partitions; p++) {
    const ckpt = await store.loadCheckpoint('engine', p)
    const clock = ckpt!.engine as { watermark: number; identity?: { stats: typeof stats } }
    for (const k of Object.keys(stats) as Array<keyof typeof stats>) stats[k] += clock.identity?.stats[k] ?? 0
    for await (const row of store.loadUsers('engine', p)) {
      const u = decodeUser(row.state!, rules)
      if (u.redirectTo !== null) users[u.key] = { redirect: u.redirectTo }
      else {
        const pr = buildProfile(u, rules, options, clock.watermark)
        users[u.key] = { traits: pr.traits, counts: pr.counts, metrics: pr.metrics, segments: pr.segments.map((x) => x.segment), links: [...(u.links ?? [])].sort() }
      }
    }
  }
  const member = new Map<string, boolean>()
  const broken: string[] = []
  for (const v of (await readAll(log, TOPICS.segmentChanges, partitions)).flat()) {
    const c = JSON.parse(v) as { user_id: string; segment: string; change: string }
    const key = `${c.user_id} ${c.segment}`
    const entered = c.change === 'entered'
    if ((member.get(key) ?? false) === entered) broken.push(`${key} ${c.change} twice`)
    member.set(key, entered)
  }
  const memberships = [...member].flatMap(([key, inside]) => (inside ? [key] : [])).sort()
  return { users, counters: { linked: stats.linked, refused: stats.refused }, forwarded: stats.forwarded, memberships, broken, changes: member.size }
}

/** A crashed run's outcome against an uninterrupted one's, and that the workload did what it is for. */
export function expectSameOutcome(crashed: IdentityOutcome, calm: IdentityOutcome): void {
  expect(calm.counters.linked).toBeGreaterThan(300)
  expect(calm.counters.refused).toBeGreaterThan(10)
  expect(calm.forwarded).toBeGreaterThan(500)
  expect(calm.changes).toBeGreaterThan(300)
  expect(calm.broken).toEqual([])
  expect(crashed.broken).toEqual([])
  expect(crashed.counters).toEqual(calm.counters)
  expect(crashed.users).toEqual(calm.users)
  expect(crashed.memberships).toEqual(calm.memberships)
}

export type IdentityOutcome = Awaited<ReturnType<typeof identityOutcome>>
