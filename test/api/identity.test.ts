import { Analytics } from '@segment/analytics-node'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { partitionOfUser } from '../../src/events/partition.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { readAll } from '../engine/outcome.ts'
import { auth, sqlWhen, startTestServer, type TestServer } from './harness.ts'

// Seed 004's unification, as the issue tried it: anonymous events from two devices, then logins as
// alice carrying those anonymous ids, sent with the official Segment SDK to a running server.

const RULES = `segments:
  regular:
    when: count(app_open) >= 3
`

interface Profile {
  user_id: string
  ids: string[]
  traits: { event_count: number; first_seen: number }
  counts: Record<string, number>
  segments: Array<{ segment: string }>
}

async function profileWhen(s: TestServer, id: string, until: (p: Profile) => boolean): Promise<Profile> {
  let last: unknown = null
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${s.url}/v1/profiles/${encodeURIComponent(id)}`, { headers: auth(s.keys.read) })
    last = res.status === 200 ? await res.json() : res.status
    if (res.status === 200 && until(last as Profile)) return last as Profile
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`profile ${id} never matched; last: ${JSON.stringify(last)}`)
}

const dataDir = mkdtempSync(join(tmpdir(), 'tagstream-identity-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

describe('identity resolution over HTTP', () => {
  it('one profile per person across devices: found by any id, segments re-evaluated, later device events follow, kept over a restart', async () => {
    // Ids on other partitions than alice's (4 partitions): the link crosses partitions.
    expect(partitionOfUser('default', 'devA', 4)).not.toBe(partitionOfUser('default', 'alice', 4))
    let s = await startTestServer({ dataDir }, RULES)
    try {
      const analytics = new Analytics({ writeKey: s.keys.write, host: s.url, flushAt: 20, maxRetries: 0 })
      const t0 = Date.now() - 60_000
      analytics.track({ anonymousId: 'devA', event: 'app_open', timestamp: new Date(t0) })
      analytics.track({ anonymousId: 'devA', event: 'app_open', timestamp: new Date(t0 + 1000) })
      analytics.track({ anonymousId: 'devB', event: 'app_open', timestamp: new Date(t0 + 2000) })
      await analytics.flush()
      const devA = await profileWhen(s, 'devA', (p) => p.traits.event_count === 2)
      expect(devA.ids).toEqual([])
      analytics.identify({ userId: 'alice', anonymousId: 'devA', traits: { plan: 'pro' }, timestamp: new Date(t0 + 3000) })
      analytics.track({ userId: 'alice', anonymousId: 'devB', event: 'login', timestamp: new Date(t0 + 4000) })
      analytics.track({ userId: 'alice', event: 'purchase', properties: { amount: 3 }, timestamp: new Date(t0 + 5000) })
      await analytics.closeAndFlush()

      // Three separate profiles before; one person after: 3 + 2 + 1 events, 3 app_opens → regular.
      const alice = await profileWhen(s, 'alice', (p) => p.traits.event_count === 6)
      expect(alice.ids).toEqual(['devA', 'devB'])
      expect(alice.counts).toEqual({ app_open: 3, identify: 1, login: 1, purchase: 1 })
      // devA's first event (skew correction moves event times by the request's clock difference, a few ms).
      expect(Math.abs(alice.traits.first_seen - t0)).toBeLessThan(500)
      expect(alice.segments.map((x) => x.segment)).toEqual(['regular'])
      // Any of the person's ids finds the person.
      for (const id of ['devA', 'devB']) {
        const p = await profileWhen(s, id, (x) => x.user_id === 'alice')
        expect(p.traits.event_count).toBe(6)
      }
      // The absorbed ids are no profiles of their own in searches.
      const search = (await (await fetch(`${s.url}/v1/profiles?limit=10`, { headers: auth(s.keys.read) })).json()) as { profiles: Profile[] }
      expect(search.profiles.map((p) => p.user_id)).toEqual(['alice'])

      // The device keeps sending its anonymous id (its SDK does not know alice yet): alice's events.
      const late = new Analytics({ writeKey: s.keys.write, host: s.url, flushAt: 20, maxRetries: 0 })
      late.track({ anonymousId: 'devA', event: 'app_open', timestamp: new Date(t0 + 6000) })
      await late.closeAndFlush()
      await profileWhen(s, 'alice', (p) => p.traits.event_count === 7 && p.counts.app_open === 4)

      // The change stream: devA never entered; alice entered once.
      const { log } = s.ctx
      const changes = (await readAll(log, TOPICS.segmentChanges, 4)).flat().map((v) => JSON.parse(v) as { user_id: string; change: string })
      expect(changes.map((c) => `${c.user_id} ${c.change}`)).toEqual(['alice entered'])

      // The warehouse: the identities view, and a person's events by joining it (docs/identity.md).
      expect(await sqlWhen(s, 'SELECT user_id, id FROM identities ORDER BY id', (r) => r.length === 2)).toEqual([
        ['alice', 'devA'],
        ['alice', 'devB'],
      ])
      const personEvents = `SELECT coalesce(i.user_id, e.user_id) AS person, count(*)::INTEGER AS n FROM events e
        LEFT JOIN identities i ON i.tenant = e.tenant AND i.id = e.user_id GROUP BY ALL ORDER BY person`
      expect(await sqlWhen(s, personEvents, (r) => r.length === 1 && r[0]![1] === 7)).toEqual([['alice', 7]])
    } finally {
      await s.close()
    }

    // A restart restores the links, redirects and the merged state from the checkpoints.
    s = await startTestServer({ dataDir, segmentsPath: join(dataDir, 'test-segments.yaml') })
    try {
      const p = await profileWhen(s, 'devB', (x) => x.user_id === 'alice')
      expect(p.traits.event_count).toBe(7)
      expect(p.ids).toEqual(['devA', 'devB'])
    } finally {
      await s.close()
    }
  })
})
