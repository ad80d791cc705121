import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { validateEvent, type TrackedEvent } from '../../src/events/index.ts'
import type { Profile, ProfilePage, SegmentInfo } from '../../src/engine/thread/protocol.ts'
import { auth, startTestServer, type TestServer } from './harness.ts'

const T0 = Date.UTC(2026, 10, 1, 10)

interface ErrorJson {
  error: { code: string; message: string; field?: string; line?: number; column?: number }
}

function events(tenant: string, raws: Array<Record<string, unknown>>): TrackedEvent[] {
  return raws.map((raw) => {
    // Received after every event time here: the collector clamps a later time to its receive time.
    const v = validateEvent(raw, { tenant, receivedAt: T0 + 60_000 })
    if (!v.ok) throw new Error(v.error.reason)
    return v.event
  })
}

async function until<T>(f: () => Promise<T | null | undefined | false>, ms = 5_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await f()
    if (v) return v
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('profiles and segments API', () => {
  let s: TestServer
  const get = (path: string, key = s.keys.read) => fetch(`${s.url}${path}`, { headers: auth(key) })

  beforeAll(async () => {
    // Fixed event times of 2026-11-01: the clock moves with events only, not with today's wall clock.
    s = await startTestServer({ clockTickMs: 0 })
    // Appended straight to the log (the collector has its own tests): the engine picks them up.
    await appendEvents(
      s.ctx.log,
      events('default', [
        { event: 'spin', user_id: 'u1', ts: T0, country: 'TR' },
        { event: 'spin', user_id: 'u1', ts: T0 + 1000 },
        { event: 'spin', user_id: 'u1', ts: T0 + 2000 },
        { event: 'purchase', user_id: 'u2', ts: T0 + 3000, amount: 25, country: 'DE' },
        { event: 'spin', user_id: 'u3', ts: T0 + 4000, country: 'TR' },
      ]),
      s.ctx.partitions,
    )
    await appendEvents(s.ctx.log, events('acme', [{ event: 'spin', user_id: 'u1', ts: T0 }]), s.ctx.partitions)
    await until(async () => s.ctx.engine.snapshot().processed >= 6, 15_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(s.ctx.engine.snapshot())}`)
    })
  })
  afterAll(async () => {
    await s?.close()
  })

  it('returns a live profile with traits, counts, segments and window metrics', async () => {
    const r = await get('/v1/profiles/u1')
    expect(r.status).toBe(200)
    const p = (await r.json()) as Profile
    expect(p).toMatchObject({
      tenant: 'default',
      user_id: 'u1',
      traits: { first_seen: T0, last_seen: T0 + 2000, event_count: 3, country: 'TR', total_purchases: 0 },
      counts: { spin: 3 },
      segments: [{ segment: 'spinner', since: T0 + 2000 }],
      metrics: { 'count(spin, 1h)': 3, 'sum(purchase.amount)': 0 },
    })
  })

  it('keeps tenants apart', async () => {
    const p = (await (await get('/v1/profiles/u1', s.keys.acme)).json()) as Profile
    expect(p.traits.event_count).toBe(1)
    expect(p.segments).toEqual([])
    expect((await get('/v1/profiles/u2', s.keys.acme)).status).toBe(404)
  })

  it('answers 404 for an unknown user, 401 without a key and 403 for a write-only key', async () => {
    const missing = await get('/v1/profiles/nobody')
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({ error: { code: 'not_found', message: 'no profile for user "nobody"' } })
    expect((await fetch(`${s.url}/v1/profiles/u1`)).status).toBe(401)
    const forbidden = await get('/v1/profiles/u1', s.keys.write)
    expect(forbidden.status).toBe(403)
    expect(((await forbidden.json()) as ErrorJson).error.message).toContain('may not read data')
  })

  it('searches by segment and traits with pagination', async () => {
    const ids = async (path: string) => ((await (await get(path)).json()) as ProfilePage).profiles.map((p) => p.user_id)
    expect(await ids('/v1/profiles?segment=spinner')).toEqual(['u1'])
    expect(await ids('/v1/profiles?where=country:TR')).toEqual(['u1', 'u3'])
    expect(await ids(`/v1/profiles?last_seen>=${new Date(T0 + 3000).toISOString()}`)).toEqual(['u2', 'u3'])
    const page1 = (await (await get('/v1/profiles?limit=2')).json()) as ProfilePage
    expect(page1.profiles.map((p) => p.user_id)).toEqual(['u1', 'u2'])
    const page2 = (await (await get(`/v1/profiles?limit=2&cursor=${page1.next}`)).json()) as ProfilePage
    expect(page2.profiles.map((p) => p.user_id)).toEqual(['u3'])
    expect(page2.next).toBeNull()
  })

  it.each([
    ['/v1/profiles?where=contry:TR', 'unknown trait "contry"'],
    ['/v1/profiles?where=total_purchases>lots', 'total_purchases compares with a number, got "lots"'],
    ['/v1/profiles?where=last_seen>yesterday', 'last_seen: "yesterday" is not an ISO-8601 date-time'],
    ['/v1/profiles?where=country', 'condition "country" must look like trait:value'],
    ['/v1/profiles?limit=0', 'limit must be an integer from 1 to 1000, got "0"'],
  ])('rejects %s precisely', async (path, message) => {
    const r = await get(path)
    expect(r.status).toBe(400)
    expect(((await r.json()) as ErrorJson).error.message).toContain(message)
  })

  it('lists segments with live sizes and their members', async () => {
    const list = (await (await get('/v1/segments')).json()) as { segments: SegmentInfo[] }
    expect(list.segments).toEqual([
      { name: 'spinner', when: 'count(spin, 1h) >= 3', keep: null, description: null, size: 1 },
      { name: 'buyer', when: 'sum(purchase.amount) > 10', keep: null, description: null, size: 1 },
    ])
    expect(await (await get('/v1/segments/buyer/members')).json()).toEqual({ members: [{ user_id: 'u2', since: T0 + 3000 }], next: null })
    expect((await get('/v1/segments/nope/members')).status).toBe(404)
  })

  it('adds a segment at run time, applies it to new events, and reports rule errors with line and column', async () => {
    const put = (name: string, body: unknown, key = s.keys.operator) =>
      fetch(`${s.url}/v1/segments/${name}`, { method: 'PUT', headers: { ...auth(key), 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const bad = await put('turks', { when: 'country = "TR" and count(spin, 2x) > 1' })
    expect(bad.status).toBe(400)
    const err = ((await bad.json()) as ErrorJson).error
    expect(err).toMatchObject({ code: 'invalid_rule', field: 'when', line: 1, column: 32 })
    expect(err.message).toContain('duration')
    const readOnly = await put('turks', { when: 'country = "TR"' }, s.keys.read)
    expect(readOnly.status).toBe(403)
    expect(((await readOnly.json()) as ErrorJson).error.message).toContain('the admin scope')
    expect((await get('/v1/segments/turks')).status).toBe(404)
    expect((await put('turks', { when: 5 })).status).toBe(400)
    const ok = await put('turks', { when: 'country = "TR" and count(spin, 1h) >= 1', keep: '1m', description: 'Turkish spinners' })
    expect(ok.status).toBe(200)
    // The users the rule already holds for enter at the change (docs/tenancy.md, "Backfill on creation").
    expect(await ok.json()).toEqual({ name: 'turks', when: 'country = "TR" and count(spin, 1h) >= 1', keep: '1m', description: 'Turkish spinners', size: 2 })
    const ids = async () => ((await (await get('/v1/segments/turks/members')).json()) as { members: Array<{ user_id: string; since: number }> }).members
    expect((await ids()).map((m) => m.user_id)).toEqual(['u1', 'u3'])
    // And live from there.
    await appendEvents(s.ctx.log, events('default', [{ event: 'spin', user_id: 'u9', ts: T0 + 5000, country: 'TR' }]), s.ctx.partitions)
    const members = await until(async () => {
      const m = await ids()
      return m.length > 2 ? m : null
    })
    expect(members.find((m) => m.user_id === 'u9')).toEqual({ user_id: 'u9', since: T0 + 5000 })
  })
})
