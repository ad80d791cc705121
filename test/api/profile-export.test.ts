/**
 * GET /v1/profiles/:user_id/export (docs/privacy.md), end to end on `serve`: one person's profile,
 * their events from the warehouse and from the log (each once, none of another person's or
 * tenant's), their segment changes and notifications, the end counts; the scopes, the tenant
 * boundary, 404 for an unknown id, and the audit entry.
 */
import { describe, expect, it } from 'vitest'
import { keyId } from '../../src/api/auth.ts'
import { auth, sqlWhen, useTestServer, type TestServer } from './harness.ts'
import { until } from '../support/until.ts'

const T0 = Date.UTC(2026, 10, 20, 12)

type Line = Record<string, unknown> & { kind: string }
interface Sent {
  event: string
  user_id?: string
  anonymous_id?: string
  event_id: string
  ts: number
  [property: string]: unknown
}

const post = async (s: TestServer, key: string, events: Sent[]) => {
  const r = await fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: JSON.stringify(events) })
  expect(r.status, await r.text()).toBe(200)
}

async function exportOf(s: TestServer, key: string, id: string): Promise<{ status: number; type: string | null; lines: Line[]; body: string }> {
  const r = await fetch(`${s.url}/v1/profiles/${encodeURIComponent(id)}/export`, { headers: auth(key) })
  const body = await r.text()
  const lines =
    r.status === 200
      ? body
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as Line)
      : []
  return { status: r.status, type: r.headers.get('content-type'), lines, body }
}

const ofKind = (lines: Line[], kind: string) => lines.filter((l) => l.kind === kind)
const eventIds = (lines: Line[]) => ofKind(lines, 'event').map((l) => String(l.event_id))

/** Checks the frame every export has: the header first, the end line last with the counts of the lines between. */
function checkFrame(lines: Line[], tenant: string, userId: string): void {
  expect(lines[0]).toMatchObject({ kind: 'export', tenant, user_id: userId })
  expect(new Date(String(lines[0]!.generated_at)).toISOString()).toBe(lines[0]!.generated_at)
  expect(lines.at(-1)).toEqual({
    kind: 'end',
    events: ofKind(lines, 'event').length,
    segment_changes: ofKind(lines, 'segment_change').length,
    notifications: ofKind(lines, 'notification').length,
    inbox_messages: ofKind(lines, 'inbox_message').length,
  })
  // In order: export, profile, events (warehouse, then log), segment changes, notifications, end.
  const rank: Record<string, number> = { export: 0, profile: 1, event: 2, segment_change: 4, notification: 5, end: 6 }
  const ranks = lines.map((l) => (l.kind === 'event' && l.source === 'log' ? 3 : rank[l.kind]!))
  expect(ranks).toEqual([...ranks].sort((a, b) => a - b))
}

describe('GET /v1/profiles/:user_id/export', () => {
  const s = useTestServer({ clockTickMs: 0 })
  let n = 0
  const ev = (event: string, ids: { user_id?: string; anonymous_id?: string }, extra: Record<string, unknown> = {}): Sent => {
    n++
    return { event, ...ids, event_id: `e-${n}`, ts: T0 + n * 1000, ...extra }
  }
  // What was sent, per tenant and person: the export must hold exactly these.
  const alice: Sent[] = []
  const bob: Sent[] = []
  const acmeAlice: Sent[] = []

  it("holds the person's profile, events from the warehouse and the log, changes and notifications, and nobody else's", async () => {
    const { admin, acme } = s.keys
    // alice's device first sends anonymously, then alice signs in on it: dev-a is linked into alice.
    alice.push(ev('page', { anonymous_id: 'dev-a' }, { path: '/home' }), ev('spin', { user_id: 'alice', anonymous_id: 'dev-a' }))
    alice.push(ev('spin', { user_id: 'alice' }), ev('spin', { user_id: 'alice' }, { bet: 5 }), ev('add_to_cart', { user_id: 'alice' }, { item: 'sword' }))
    bob.push(ev('spin', { user_id: 'bob' }), ev('spin', { user_id: 'bob', anonymous_id: 'dev-b' }))
    acmeAlice.push(ev('spin', { user_id: 'alice' }, { partner: 'acme' }))
    await post(s, admin, [...alice, ...bob])
    await post(s, acme, acmeAlice)
    // The warehouse sink writes them (and alice's entry into spinner, the cart_push notification).
    await sqlWhen(s, 'SELECT count(*) FROM events', (rows) => Number(rows[0]?.[0]) === alice.length + bob.length + acmeAlice.length)
    await sqlWhen(s, "SELECT count(*) FROM segment_changes WHERE user_id = 'alice' AND tenant = 'default'", (rows) => Number(rows[0]?.[0]) >= 1)
    await sqlWhen(s, "SELECT count(*) FROM notifications WHERE user_id = 'alice' AND tenant = 'default'", (rows) => Number(rows[0]?.[0]) >= 1)
    await until('dev-a linked into alice', async () => {
      const r = await fetch(`${s.url}/v1/profiles/alice`, { headers: auth(admin) })
      return r.status === 200 && ((await r.json()) as { ids: string[] }).ids.includes('dev-a')
    })

    // More events, exported at once: the sink holds them back for 500 ms of quiet, so they are in the
    // log only. Should it have written them already, another round is sent, until the export has some.
    let got: Awaited<ReturnType<typeof exportOf>> | undefined
    for (let round = 0; round < 5; round++) {
      const more = [ev('spin', { user_id: 'alice' }, { round }), ev('page', { anonymous_id: 'dev-a' }, { round })]
      alice.push(...more)
      bob.push(ev('spin', { user_id: 'bob' }, { round }))
      acmeAlice.push(ev('spin', { user_id: 'alice' }, { round }))
      await post(s, admin, [...more, bob.at(-1)!])
      await post(s, acme, [acmeAlice.at(-1)!])
      got = await exportOf(s, admin, 'alice')
      expect(got.status, got.body).toBe(200)
      if (ofKind(got.lines, 'event').some((l) => l.source === 'log')) break
    }
    const { lines, type } = got!
    expect(type).toBe('application/x-ndjson; charset=utf-8')
    checkFrame(lines, 'default', 'alice')
    expect([...(lines[0]!.ids as string[])].sort()).toEqual(['alice', 'dev-a'])

    // Every event of alice and dev-a, once: some from the warehouse, the latest from the log.
    const ids = eventIds(lines)
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort()).toEqual(alice.map((e) => e.event_id).sort())
    const events = ofKind(lines, 'event')
    expect(events.filter((l) => l.source === 'warehouse').length).toBeGreaterThan(0)
    expect(events.filter((l) => l.source === 'log').length).toBeGreaterThan(0)
    for (const l of events) expect(l.tenant).toBe('default')
    // Warehouse rows in time order, all with their fields, times as ISO and properties parsed.
    const times = events.filter((l) => l.source === 'warehouse').map((l) => Date.parse(String(l.ts)))
    expect(times).toEqual([...times].sort((a, b) => a - b))
    for (const l of events) {
      const sent = alice.find((e) => e.event_id === l.event_id)!
      expect(Object.keys(l).sort()).toEqual(['anonymous_id', 'event', 'event_id', 'kind', 'offset', 'partition', 'properties', 'received_at', 'source', 'tenant', 'ts', 'user_id'])
      expect(l).toMatchObject({ event: sent.event, user_id: sent.user_id ?? sent.anonymous_id, anonymous_id: sent.anonymous_id ?? null, ts: new Date(sent.ts).toISOString() })
    }
    expect(events.find((l) => l.event_id === alice[0]!.event_id)!.properties).toEqual({ path: '/home' })
    expect(events.find((l) => l.event_id === alice[3]!.event_id)!.properties).toEqual({ bet: 5 })

    // The live profile, as GET /v1/profiles/alice answers it.
    const profile = (await (await fetch(`${s.url}/v1/profiles/alice`, { headers: auth(admin) })).json()) as { user_id: string; segments: Array<{ segment: string }> }
    expect(ofKind(lines, 'profile')).toHaveLength(1)
    expect(ofKind(lines, 'profile')[0]!.profile).toMatchObject({ tenant: 'default', user_id: 'alice', ids: ['dev-a'], segments: profile.segments })
    expect(profile.segments.map((x) => x.segment)).toContain('spinner')

    // alice's entry into spinner and the cart_push notification, from the warehouse's files.
    expect(ofKind(lines, 'segment_change')).toContainEqual(expect.objectContaining({ segment: 'spinner', change: 'entered', tenant: 'default', user_id: 'alice' }))
    const notes = ofKind(lines, 'notification')
    expect(notes).toContainEqual(expect.objectContaining({ trigger: 'cart_push', tenant: 'default', user_id: 'alice', event: 'add_to_cart' }))
    expect(notes.find((x) => x.trigger === 'cart_push')!.properties).toEqual({ item: 'sword' })
    for (const l of [...ofKind(lines, 'segment_change'), ...notes]) expect(l.tenant).toBe('default')

    // The absorbed id answers with the same person and the same events.
    const viaDevice = await exportOf(s, admin, 'dev-a')
    expect(viaDevice.status).toBe(200)
    checkFrame(viaDevice.lines, 'default', 'dev-a')
    expect(viaDevice.lines[0]!.ids).toEqual(['dev-a', 'alice'])
    expect(eventIds(viaDevice.lines).sort()).toEqual(alice.map((e) => e.event_id).sort())
  }, 60_000)

  it("gives a tenant's key its own tenant's person only", async () => {
    const { acmeAdmin, operator } = s.keys
    // acme's alice is another person: acme's events only.
    const a = await exportOf(s, acmeAdmin, 'alice')
    expect(a.status).toBe(200)
    checkFrame(a.lines, 'acme', 'alice')
    expect(eventIds(a.lines).sort()).toEqual(acmeAlice.map((e) => e.event_id).sort())
    for (const l of a.lines.filter((x) => x.kind !== 'export' && x.kind !== 'end')) expect(JSON.stringify(l)).not.toContain('"tenant":"default"')
    // bob is default's: acme has nothing of him.
    const b = await exportOf(s, acmeAdmin, 'bob')
    expect(b.status).toBe(404)
    expect(JSON.parse(b.body)).toMatchObject({ error: { code: 'not_found' } })
    // The operator key acts in its own tenant (default), as the route says.
    const o = await exportOf(s, operator, 'bob')
    expect(o.status).toBe(200)
    expect(eventIds(o.lines).sort()).toEqual(bob.map((e) => e.event_id).sort())
  })

  it('refuses keys without the admin scope, unknown ids and ids too long for a path', async () => {
    const { read, acme, admin } = s.keys
    expect((await exportOf(s, read, 'alice')).status).toBe(403)
    expect((await exportOf(s, acme, 'alice')).status).toBe(403)
    expect((await exportOf(s, 'no-such-key', 'alice')).status).toBe(401)
    const unknown = await exportOf(s, admin, 'nobody')
    expect(unknown.status).toBe(404)
    expect(JSON.parse(unknown.body)).toMatchObject({ error: { code: 'not_found' } })
    expect((await exportOf(s, admin, 'x'.repeat(101))).status).toBe(414)
    // No HEAD: it would run (and audit) an export to send nothing.
    expect((await fetch(`${s.url}/v1/profiles/alice/export`, { method: 'HEAD', headers: auth(admin) })).status).toBe(404)
  })

  it('audits every export: who, whom, when', async () => {
    const entries = await s.ctx.state.privacy.auditEntries('default', 100)
    const exports = entries.filter((e) => e.action === 'export')
    expect(exports).toContainEqual(expect.objectContaining({ tenant: 'default', action: 'export', subject: 'alice', by: keyId(s.keys.admin), job: null }))
    expect(exports).toContainEqual(expect.objectContaining({ tenant: 'default', subject: 'bob', by: keyId(s.keys.operator) }))
    // Refused and unknown ids export nothing, and are not entries.
    expect(exports.map((e) => e.subject)).not.toContain('nobody')
    for (const e of exports) expect(e.at).toBeGreaterThan(T0)
    const acme = await s.ctx.state.privacy.auditEntries('acme', 100)
    expect(acme.filter((e) => e.action === 'export')).toEqual([expect.objectContaining({ tenant: 'acme', subject: 'alice', by: keyId(s.keys.acmeAdmin) })])
  })
})

describe('GET /v1/profiles/:user_id/export without the warehouse', () => {
  const s = useTestServer({ clockTickMs: 0, warehouse: false })

  it('reads every event from the log, from its start', async () => {
    const { admin } = s.keys
    const sent: Sent[] = [1, 2, 3].map((i) => ({ event: 'spin', user_id: 'carol', event_id: `c-${i}`, ts: T0 + i * 1000 }))
    await post(s, admin, [...sent, { event: 'spin', user_id: 'dave', event_id: 'd-1', ts: T0 }])
    const r = await exportOf(s, admin, 'carol')
    expect(r.status).toBe(200)
    checkFrame(r.lines, 'default', 'carol')
    expect(ofKind(r.lines, 'event').map((l) => [l.event_id, l.source])).toEqual(sent.map((e) => [e.event_id, 'log']))
  })
})
