import { describe, expect, it } from 'vitest'
import type { TrackedEvent } from '../../src/events/index.ts'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { lifecycleEvents } from '../../src/sim/lifecycle/index.ts'
import { auth, useTestServer } from '../api/harness.ts'

/*
 * End to end over HTTP: the lifecycle simulator's players in a real server's log, its sink's
 * warehouse, a prediction run started through the API, and the scores back on the profiles as
 * `predicted.*` traits that segment rules read. Events go to the log directly (the simulator's
 * 40 days would take minutes through HTTP); everything after that is the server's.
 */
const DAY = 86_400_000
const RULES = `segments:
  likely_churn:
    when: predicted.churn_7d > 0.5
  likely_buyer:
    when: predicted.purchase_7d > 0.3 and total_purchases > 0
`

async function until<T>(what: string, f: () => Promise<T | null>, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await f()
    if (v !== null) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

describe('predicted traits on profiles, end to end', () => {
  const s = useTestServer({ predict: { enabled: false, atMinute: 30 } }, RULES)

  it('a run started over HTTP puts scores on profiles, segments read them, and activity traits are untouched', async () => {
    const end = Math.floor(Date.now() / DAY) * DAY
    const events: TrackedEvent[] = []
    let i = 0
    const lastSeen = new Map<string, number>()
    for (const e of lifecycleEvents({ users: 1500, days: 40, end, seed: 4 })) {
      const { event, user_id, ts, ...properties } = e
      events.push({ event, user_id, ts, event_id: `lc-${i++}`, tenant: 'default', received_at: ts, properties })
      lastSeen.set(user_id, Math.max(lastSeen.get(user_id) ?? 0, ts))
    }
    for (let k = 0; k < events.length; k += 20_000) await appendEvents(s.ctx.log, events.slice(k, k + 20_000), s.ctx.partitions)
    const q = async (sql: string) => {
      const r = await fetch(`${s.url}/v1/query`, { method: 'POST', headers: { ...auth(s.keys.operator), 'content-type': 'application/json' }, body: JSON.stringify({ sql }) })
      return ((await r.json()) as { rows: unknown[][] }).rows
    }
    await until('the sink to file every event', async () => (Number((await q('select count(*) from events'))[0]![0]) === events.length ? true : null))

    const started = await fetch(`${s.url}/v1/predictions/runs`, { method: 'POST', headers: { ...auth(s.keys.operator), 'content-type': 'application/json' }, body: '{}' })
    expect(started.status).toBe(202)
    const run = await until('the run', async () => {
      const l = (await (await fetch(`${s.url}/v1/predictions/runs`, { headers: auth(s.keys.read) })).json()) as {
        running: boolean
        runs: Array<{ id: string; status: string; tenants: Record<string, { scored: number | null; published: string[] }> }>
      }
      return !l.running && l.runs[0] !== undefined ? l.runs[0] : null
    })
    expect(run.status).toBe('succeeded')
    const part = run.tenants.default!
    expect(part.published).toContain('churn_7d')
    expect(part.scored).toBeGreaterThan(500)

    // The scores as the warehouse's predictions table has them, once the sink has filed them.
    const scores = await until('the predictions table', async () => {
      const rows = await q(`select user_id, churn_7d, purchase_7d, model_version from predictions where model_version = '${run.id}'`)
      return rows.length === part.scored ? rows : null
    })
    const profile = async (id: string) => (await (await fetch(`${s.url}/v1/profiles/${id}`, { headers: auth(s.keys.read) })).json()) as { traits: Record<string, unknown> }
    const [userId, churn] = scores[0] as [string, number]
    const p = await until('the engine to apply the predictions', async () => {
      const got = await profile(userId)
      return got.traits['predicted.model_version'] === run.id ? got : null
    })
    expect(p.traits['predicted.churn_7d']).toBeCloseTo(churn, 9)
    expect(typeof p.traits['predicted.scored_at']).toBe('number')
    // A prediction is not activity: last_seen is the user's last event.
    expect(p.traits.last_seen).toBe(lastSeen.get(userId))

    // Every member of likely_churn has a score over 0.5, and every such user is a member.
    const expected = scores.filter((r) => (r[1] as number) > 0.5).length
    expect(expected).toBeGreaterThan(0)
    const segment = await until('likely_churn to fill', async () => {
      const segs = (await (await fetch(`${s.url}/v1/segments`, { headers: auth(s.keys.read) })).json()) as { segments: Array<{ name: string; size: number }> }
      const seg = segs.segments.find((x) => x.name === 'likely_churn')
      return seg !== undefined && seg.size === expected ? seg : null
    })
    expect(segment.size).toBe(expected)
  })
})
