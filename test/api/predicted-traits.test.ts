import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PREDICTION_EVENT, type TrackedEvent } from '../../src/events/index.ts'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { auth, startTestServer, type TestServer } from './harness.ts'

/**
 * predicted.* traits over HTTP (docs/predictions.md): prediction events appended to the events log
 * (as the daily scoring run appends them; no client can POST one) show on profiles, in searches
 * (`predicted.churn_7d>0.7`) and in segments.
 */
const RULES = `segments:
  risky:
    when: predicted.churn_7d > 0.7 and total_purchases > 50
`
const T0 = Date.now() - 3_600_000

interface Profile {
  user_id: string
  traits: Record<string, string | number | boolean | null>
  segments: Array<{ segment: string }>
}

describe('predicted traits over HTTP', () => {
  let s: TestServer
  beforeAll(async () => {
    s = await startTestServer({ clockTickMs: 0 }, RULES)
  })
  afterAll(() => s?.close())

  const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${s.url}${path}`, { headers: auth(s.keys.read) })
    return { status: res.status, body: (await res.json()) as T }
  }

  it('shows them on profiles and in GET /v1/traits, and searches them', async () => {
    const purchases = ['u1', 'u2', 'u3'].map((u, i) => ({ event: 'purchase', user_id: u, ts: T0 + i, amount: u === 'u3' ? 10 : 60, event_id: `p-${u}` }))
    const res = await fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(s.keys.write), 'content-type': 'application/json' }, body: JSON.stringify(purchases) })
    expect(res.status).toBe(200)
    const refused = await fetch(`${s.url}/v1/events`, {
      method: 'POST',
      headers: { ...auth(s.keys.write), 'content-type': 'application/json' },
      body: JSON.stringify([{ event: PREDICTION_EVENT, user_id: 'u1', ts: T0, event_id: 'forged' }]),
    })
    expect(((await refused.json()) as { accepted: number }).accepted).toBe(0)
    // Once the purchases are applied: a prediction for a user the partition does not hold yet is dropped.
    const held = async () => (await Promise.all(['u1', 'u2', 'u3'].map(async (u) => (await get(`/v1/profiles/${u}`)).status))).every((st) => st === 200)
    for (let i = 0; i < 200 && !(await held()); i++) await new Promise((r) => setTimeout(r, 50))
    const scored = (user: string, churn: number): TrackedEvent => ({
      event: PREDICTION_EVENT,
      user_id: user,
      ts: T0 + 10_000,
      event_id: `pred-${user}`,
      tenant: 'default',
      received_at: T0 + 10_000,
      properties: { churn_7d: churn, purchase_7d: 0.25, wealth_30d: null, model_version: 'm1' },
    })
    await appendEvents(s.ctx.log, [scored('u1', 0.9), scored('u2', 0.3), scored('u3', 0.95), scored('ghost', 0.99)], s.ctx.partitions)

    let found: string[] = []
    for (let i = 0; i < 200; i++) {
      const r = await get<{ profiles: Profile[] }>('/v1/profiles?predicted.churn_7d>0.7')
      found = r.body.profiles.map((p) => p.user_id)
      if (found.length >= 2) break
      await new Promise((res) => setTimeout(res, 50))
    }
    expect(found).toEqual(['u1', 'u3'])
    expect((await get<{ profiles: Profile[] }>('/v1/profiles?where=predicted.model_version:m1,predicted.churn_7d<0.5')).body.profiles.map((p) => p.user_id)).toEqual(['u2'])
    const u1 = (await get<Profile>('/v1/profiles/u1')).body
    expect(u1.traits).toMatchObject({
      'predicted.churn_7d': 0.9,
      'predicted.purchase_7d': 0.25,
      'predicted.wealth_30d': null,
      'predicted.model_version': 'm1',
      'predicted.scored_at': T0 + 10_000,
      event_count: 1,
    })
    expect(u1.segments.map((x) => x.segment)).toEqual(['risky'])
    expect((await get<Profile>('/v1/profiles/u3')).body.segments).toEqual([])
    expect((await get('/v1/profiles/ghost')).status).toBe(404)
    const traits = (await get<{ traits: Array<{ name: string; type: string; description: string | null }> }>('/v1/traits')).body.traits
    expect(traits.find((t) => t.name === 'predicted.churn_7d')).toMatchObject({ type: 'number', description: expect.stringContaining('no activity in the next 7 days') })
  })
})
