import { describe, expect, it } from 'vitest'
import { appendEvents } from '../../src/ingest/append-events.ts'
import type { TrackedEvent } from '../../src/events/index.ts'
import { DAY, playerHistories } from '../predict/histories.ts'
import { auth, useTestServer } from './harness.ts'

/** Histories of two tenants in the log, up to yesterday, so the server's engine and sink see them. */
function histories(): TrackedEvent[] {
  const endDay = Math.floor(Date.now() / DAY)
  const out: TrackedEvent[] = []
  for (const tenant of ['default', 'acme']) {
    playerHistories({ users: 300, days: 30, endDay, seed: tenant === 'acme' ? 9 : 8, tenant }).forEach((e, i) => {
      const { amount, player_wealth } = e.properties as { amount?: number; player_wealth?: number }
      out.push({
        event: e.event,
        user_id: e.user_id,
        ts: Date.parse(e.ts),
        event_id: `${tenant}-${i}`,
        tenant,
        received_at: Date.parse(e.ts),
        properties: { ...(amount === undefined ? {} : { amount }), ...(player_wealth === undefined ? {} : { player_wealth }) },
      })
    })
  }
  return out
}

async function waitFor<T>(f: () => Promise<T | null>, ms = 60_000): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const v = await f()
    if (v !== null) return v
    if (Date.now() > until) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 200))
  }
}

describe('prediction runs over HTTP', () => {
  const server = useTestServer({ predict: { enabled: false, atMinute: 30 } })

  it('an operator starts a run; runs never overlap; each key sees its own tenant', async () => {
    await appendEvents(server.ctx.log, histories(), server.ctx.partitions)
    // The sink files them: the run reads the warehouse.
    await waitFor(async () => {
      const r = await fetch(`${server.url}/v1/query`, {
        method: 'POST',
        headers: { ...auth(server.keys.operator), 'content-type': 'application/json' },
        body: JSON.stringify({ sql: 'select count(*) n from events' }),
      })
      const body = (await r.json()) as { rows: number[][] }
      return Number(body.rows[0]![0]) > 10_000 ? true : null
    })
    const start = (key: string, body: unknown = {}) =>
      fetch(`${server.url}/v1/predictions/runs`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: JSON.stringify(body) })
    expect((await start(server.keys.admin)).status).toBe(403)
    expect((await start(server.keys.operator, { kind: 'everything' })).status).toBe(400)
    const first = await start(server.keys.operator, { kind: 'train' })
    expect(first.status).toBe(202)
    expect(await first.json()).toEqual({ started: 'train' })
    const second = await start(server.keys.operator)
    expect(second.status).toBe(409)
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe('run_in_progress')

    const list = async (key: string) =>
      (await (await fetch(`${server.url}/v1/predictions/runs`, { headers: auth(key) })).json()) as { running: boolean; runs: Array<{ id: string; status: string; tenants: Record<string, unknown> }> }
    const done = await waitFor(async () => {
      const l = await list(server.keys.read)
      return !l.running && l.runs[0]?.status === 'succeeded' ? l.runs[0] : null
    })
    expect(Object.keys(done.tenants)).toEqual(['default'])
    const acme = await list(server.keys.acme)
    expect(Object.keys(acme.runs[0]!.tenants)).toEqual(['acme'])
    const all = await list(server.keys.operator)
    expect(Object.keys(all.runs[0]!.tenants).sort()).toEqual(['acme', 'default'])

    const one = await fetch(`${server.url}/v1/predictions/runs/${done.id}`, { headers: auth(server.keys.acme) })
    expect(one.status).toBe(200)
    expect(Object.keys(((await one.json()) as { tenants: object }).tenants)).toEqual(['acme'])
    expect((await fetch(`${server.url}/v1/predictions/runs/20200101T000000Z-abcd`, { headers: auth(server.keys.read) })).status).toBe(404)
    expect((await fetch(`${server.url}/v1/predictions/runs/..%2F..%2Fetc`, { headers: auth(server.keys.read) })).status).toBe(404)

    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    expect(metrics).toMatch(/tagstream_prediction_runs_total\{kind="train",status="succeeded"\} 1/)
    expect(metrics).toMatch(/tagstream_prediction_quality\{tenant="acme",model="churn_7d",metric="roc_auc",of="model"\} 0\.\d+/)
  })
})
