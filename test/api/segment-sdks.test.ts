import { Analytics } from '@segment/analytics-node'
import RudderAnalytics from '@rudderstack/rudder-sdk-node'
import { PostHog } from 'posthog-node'
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import type { TrackedEvent } from '../../src/events/index.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { auth, logEvents, parsedEvents, sqlWhen as sql, startTestServer, type TestServer } from './harness.ts'

// The official SDKs from npm, unchanged but for the host, against a real server (issue 18): what
// they send must land as events, reach the engine (profiles, segments), the change stream and the
// warehouse, under the tenant of the write key they send as HTTP Basic.

const RULES = `segments:
  buyer:
    when: sum(purchase.amount) > 10
  reader:
    when: count(page) >= 1
`

interface Profile {
  user_id: string
  traits: { event_count: number; total_purchases: number; first_seen: number; last_seen: number }
  counts: Record<string, number>
  segments: Array<{ segment: string }>
}

async function profile(s: TestServer, id: string, until: (p: Profile) => boolean): Promise<Profile> {
  let last: Profile | null = null
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${s.url}/v1/profiles/${encodeURIComponent(id)}`, { headers: auth(s.keys.read) })
    if (res.status === 200) {
      last = (await res.json()) as Profile
      if (until(last)) return last
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`profile ${id} never matched; last: ${JSON.stringify(last)}`)
}

const events = (s: TestServer): Promise<TrackedEvent[]> => logEvents(s)

describe('@segment/analytics-node', () => {
  it('sends every call through /v1/batch with Basic auth; the profile, segments, change stream and warehouse see them', async () => {
    const s = await startTestServer({}, RULES)
    try {
      const analytics = new Analytics({ writeKey: s.keys.write, host: s.url, flushAt: 50, maxRetries: 0 })
      const errors: unknown[] = []
      analytics.on('error', (e) => errors.push(e))
      const t0 = Date.now() - 60_000
      analytics.identify({ userId: 'alice', anonymousId: 'devA', traits: { plan: 'pro', email: 'alice@example.com' } })
      for (let i = 0; i < 3; i++) analytics.track({ userId: 'alice', event: 'purchase', properties: { amount: 4.5, item: `sword-${i}` }, timestamp: new Date(t0 + i * 1000) })
      analytics.track({ userId: 'alice', event: 'Order Completed', properties: { revenue: 9.99 } })
      analytics.page({ userId: 'alice', name: 'Home', category: 'Docs', properties: { url: 'https://example.com/' } })
      analytics.screen({ userId: 'alice', name: 'Main' })
      analytics.group({ userId: 'alice', groupId: 'guild-7', traits: { name: 'Night Owls' } })
      analytics.alias({ userId: 'alice', previousId: 'devB' })
      await analytics.closeAndFlush()
      expect(errors).toEqual([])
      // The byte-level reader took the identify, the three purchases, the page (its category copied
      // into its properties by the SDK: kept once) and the screen as the SDK sent them; the renamed
      // track, the group and the alias went through JSON.parse and the mapping.
      expect(await parsedEvents(s)).toEqual({ fast: 6, validated: 3 })

      const p = await profile(s, 'alice', (x) => x.traits.event_count === 9 && x.segments.length === 2)
      expect(p.counts).toMatchObject({ identify: 1, purchase: 3, Order_Completed: 1, page: 1, screen: 1, group: 1, alias: 1 })
      // properties.amount is counted: 3 × 4.5.
      expect(p.traits.total_purchases).toBe(13.5)
      expect(p.segments.map((x) => x.segment).sort()).toEqual(['buyer', 'reader'])
      // The client's timestamp is the event time (the first purchase is the earliest event).
      expect(p.traits.first_seen).toBeGreaterThanOrEqual(t0 - 5)
      expect(p.traits.first_seen).toBeLessThan(t0 + 1000)

      const stored = await events(s)
      const purchase = stored.find((e) => e.event === 'purchase' && e.properties.item === 'sword-0')!
      expect(purchase).toMatchObject({ user_id: 'alice', tenant: 'default', properties: { amount: 4.5, context: { library: { name: '@segment/analytics-node' } } } })
      expect(purchase.event_id).toMatch(/^node-next-/)
      const order = stored.find((e) => e.event === 'Order_Completed')!
      expect(order.properties).toMatchObject({ original_event: 'Order Completed', revenue: 9.99 })
      expect(stored.find((e) => e.event === 'identify')).toMatchObject({ user_id: 'alice', anonymous_id: 'devA', properties: { plan: 'pro', email: 'alice@example.com' } })
      expect(stored.find((e) => e.event === 'page')!.properties).toMatchObject({ name: 'Home', category: 'Docs', url: 'https://example.com/' })
      expect(stored.find((e) => e.event === 'group')!.properties).toMatchObject({ group_id: 'guild-7', name: 'Night Owls' })
      expect(stored.find((e) => e.event === 'alias')!.properties).toMatchObject({ previous_id: 'devB' })

      // The change stream: alice entered both segments.
      const changes = []
      for (let q = 0; q < s.ctx.partitions; q++)
        for (const r of await s.ctx.log.read(TOPICS.segmentChanges, q, 0)) changes.push(JSON.parse(Buffer.from(r.value).toString()) as { user_id: string; segment: string; change: string })
      expect(
        changes
          .filter((c) => c.user_id === 'alice')
          .map((c) => c.segment)
          .sort(),
      ).toEqual(['buyer', 'reader'])

      // The warehouse flattens them like any event: properties as columns, context by path.
      const rows = await sql(s, "SELECT amount, item, context_library_name FROM events WHERE event = 'purchase' ORDER BY item", (r) => r.length === 3)
      expect(rows).toEqual([
        [4.5, 'sword-0', '@segment/analytics-node'],
        [4.5, 'sword-1', '@segment/analytics-node'],
        [4.5, 'sword-2', '@segment/analytics-node'],
      ])
    } finally {
      await s.close()
    }
  })

  it('answers an unknown write key with 401, and the SDK reports the failure', async () => {
    const s = await startTestServer({}, RULES)
    try {
      const analytics = new Analytics({ writeKey: 'not-a-key', host: s.url, flushAt: 1, maxRetries: 0 })
      const failed = new Promise<unknown>((resolve) => analytics.on('error', resolve))
      analytics.track({ userId: 'mallory', event: 'spin' })
      expect(inspect(await failed)).toMatch(/401/)
      await analytics.closeAndFlush()
      expect((await events(s)).filter((e) => e.user_id === 'mallory')).toEqual([])
    } finally {
      await s.close()
    }
  })
})

describe('@rudderstack/rudder-sdk-node', () => {
  it('sends gzip JSON as application/x-www-form-urlencoded to /v1/batch; the events land under the key tenant', async () => {
    const s = await startTestServer({}, RULES)
    try {
      const client = new RudderAnalytics(s.keys.acme, { dataPlaneUrl: s.url, flushAt: 20 })
      client.identify({ userId: 'bob', anonymousId: 'devC', traits: { plan: 'free' } })
      for (let i = 0; i < 3; i++) client.track({ userId: 'bob', event: 'purchase', properties: { amount: 5 } })
      client.page({ userId: 'bob', name: 'Shop' })
      await new Promise<void>((resolve, reject) => client.flush((err?: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve())))
      // RudderStack's messages, each with its own sentAt, all read byte by byte.
      expect(await parsedEvents(s)).toEqual({ fast: 5, validated: 0 })

      const stored = (await events(s)).filter((e) => e.user_id === 'bob')
      expect(stored).toHaveLength(5)
      for (const e of stored) expect(e.tenant).toBe('acme')
      // RudderStack sends originalTimestamp and sentAt on every message; the event time is corrected by them.
      for (const e of stored) expect(Math.abs(e.ts - e.received_at)).toBeLessThan(5_000)
      expect(stored.find((e) => e.event === 'identify')).toMatchObject({ anonymous_id: 'devC', properties: { plan: 'free' } })

      const res = await fetch(`${s.url}/v1/profiles/bob`, { headers: auth(s.keys.acme) })
      expect(res.status).toBe(200)
      const p = await profile({ ...s, keys: { ...s.keys, read: s.keys.acme } }, 'bob', (x) => x.traits.event_count === 5)
      expect(p.traits.total_purchases).toBe(15)
      expect(p.segments.map((x) => x.segment).sort()).toEqual(['buyer', 'reader'])
    } finally {
      await s.close()
    }
  })
})

describe('posthog-node', () => {
  it('sends gzip batches to /batch/ with the key in the body; capture, identify and alias land as events', async () => {
    const s = await startTestServer({}, RULES)
    try {
      const client = new PostHog(s.keys.acme, { host: s.url, flushAt: 50, fetchRetryCount: 0 })
      const errors: unknown[] = []
      client.on('error', (e) => errors.push(e))
      for (let i = 0; i < 3; i++) client.capture({ distinctId: 'carol', event: 'purchase', properties: { amount: 4 } })
      client.capture({ distinctId: 'carol', event: '$pageview', properties: { $current_url: 'https://example.com/' } })
      client.identify({ distinctId: 'carol', properties: { plan: 'gold' } })
      client.alias({ distinctId: 'carol', alias: 'devE' })
      await client.shutdown()
      expect(errors).toEqual([])

      const stored = (await events(s)).filter((e) => e.user_id === 'carol')
      expect(stored.map((e) => e.event).sort()).toEqual(['alias', 'identify', 'page', 'purchase', 'purchase', 'purchase'])
      for (const e of stored) expect(e.tenant).toBe('acme')
      expect(stored.find((e) => e.event === 'identify')!.properties).toMatchObject({ plan: 'gold', original_event: '$identify' })
      expect(stored.find((e) => e.event === 'alias')!.properties).toMatchObject({ previous_id: 'devE' })
      expect(stored.find((e) => e.event === 'page')!.properties).toMatchObject({ $current_url: 'https://example.com/', $lib: 'posthog-node' })
      // PostHog's `$` property names are columns like any other in the warehouse.
      expect(await sql(s, `SELECT "$current_url", "$lib" FROM events WHERE event = 'page' AND tenant = 'acme'`, (r) => r.length === 1)).toEqual([['https://example.com/', 'posthog-node']])
      const p = await profile({ ...s, keys: { ...s.keys, read: s.keys.acme } }, 'carol', (x) => x.traits.event_count === 6)
      expect(p.traits.total_purchases).toBe(12)
      expect(p.segments.map((x) => x.segment).sort()).toEqual(['buyer', 'reader'])
    } finally {
      await s.close()
    }
  })

  it('refuses a body without a known key with 401, and keeps nothing of it', async () => {
    const s = await startTestServer({}, RULES)
    try {
      const client = new PostHog('not-a-key', { host: s.url, flushAt: 1, fetchRetryCount: 0 })
      const failed = new Promise<unknown>((resolve) => client.on('error', resolve))
      client.capture({ distinctId: 'mallory', event: 'spin' })
      expect(inspect(await failed)).toMatch(/401/)
      await client.shutdown()
      expect((await events(s)).filter((e) => e.user_id === 'mallory')).toEqual([])
    } finally {
      await s.close()
    }
  })
})
