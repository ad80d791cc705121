import { describe, expect, it } from 'vitest'
import { REPORTS } from '../../src/warehouse/reports/index.ts'
import { auth, useTestServer, type TestServer } from '../api/harness.ts'

/*
 * Issue 15, item 2: one tenant's `purchase` with `"cost":"abc"` must not change the `cost` column's
 * type, nor break any report or view for anyone. Over real HTTP: the server's sink thread writes the
 * warehouse; every report runs for the default tenant before and after acme's bad event and must give
 * the same answer; raw SQL over every view must still run.
 */

const T0 = Date.UTC(2026, 10, 3, 10)
type Row = Record<string, unknown>

function gameEvents(tenantTag: string, n: number, from: number): Row[] {
  const out: Row[] = []
  for (let i = from; i < from + n; i++) {
    const user = `${tenantTag}${i % 7}`
    const ts = T0 + i * 1000
    const player = { wealth: 10 + i * 37, num_items: i % 5, num_affiliations: i % 3, created: '2026-01-01' }
    out.push({ event: 'login', user_id: user, ts, host: `user${i}.earthlink.com`, status: 'ok', player })
    out.push({
      event: 'purchase',
      user_id: user,
      ts: ts + 100,
      host: `user${i}.comcast.net`,
      kind: i % 2 ? 'sword' : 'spell',
      type: i % 3 ? 'cutlass' : 'fireball',
      cost: 5 + (i % 4),
      status: 'approved_purchase',
      player,
    })
    out.push({ event: 'join_guild', user_id: user, ts: ts + 200, org: `guild${i % 3}`, status: 'ok', player })
  }
  return out
}

async function post(s: TestServer, key: string, events: Row[]): Promise<void> {
  const r = await fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: JSON.stringify(events) })
  expect(r.status, await r.clone().text()).toBe(200)
}

async function sql(s: TestServer, text: string): Promise<{ status: number; rows: unknown[][]; body: string }> {
  const r = await fetch(`${s.url}/v1/query`, { method: 'POST', headers: { ...auth(s.keys.operator), 'content-type': 'application/json' }, body: JSON.stringify({ sql: text, limit: 100_000 }) })
  const body = await r.text()
  return { status: r.status, rows: r.status === 200 ? (JSON.parse(body) as { rows: unknown[][] }).rows : [], body }
}

/** Waits until the `events` view holds `n` events (the sink flushes every 5 s; views see new files within about 5 s, staleMs). */
async function waitForEvents(s: TestServer, n: number): Promise<void> {
  const deadline = Date.now() + 40_000
  let seen: unknown = null
  while (Date.now() < deadline) {
    const r = await sql(s, 'SELECT count(*)::INTEGER FROM events')
    seen = r.status === 200 ? r.rows[0]![0] : r.body
    if (seen === n) return
    await new Promise((done) => setTimeout(done, 250))
  }
  throw new Error(`warehouse holds ${String(seen)} events, expected ${n}`)
}

async function allReports(s: TestServer, key: string): Promise<Record<string, { status: number; body: unknown }>> {
  const out: Record<string, { status: number; body: unknown }> = {}
  for (const report of REPORTS) {
    const r = await fetch(`${s.url}/v1/reports/${report.name}`, { headers: auth(key) })
    const json = (await r.json()) as { columns?: unknown; rows?: unknown; error?: unknown }
    out[report.name] = { status: r.status, body: r.status === 200 ? { columns: json.columns, rows: json.rows } : json }
  }
  return out
}

describe('one bad value of one tenant breaks no report', () => {
  const s = useTestServer({ clockTickMs: 0 })

  it('keeps every report and view working, with the same numbers for the other tenant', async () => {
    const defaults = gameEvents('d', 30, 0)
    const acme = gameEvents('a', 20, 0)
    await post(s, s.keys.write, defaults)
    await post(s, s.keys.acme, acme)
    await waitForEvents(s, defaults.length + acme.length)
    const before = await allReports(s, s.keys.read)
    for (const [name, r] of Object.entries(before)) expect(r.status, `${name}: ${JSON.stringify(r.body)}`).toBe(200)
    expect(Object.keys(before).sort()).toEqual(REPORTS.map((r) => r.name).sort())

    // acme's bad purchase, next to good ones of its own (same flush, same file) and in a file of its own.
    const bad = { event: 'purchase', user_id: 'a1', ts: T0 + 500_000, kind: 'sword', type: 'cutlass', cost: 'abc', status: 'approved_purchase', player: { wealth: 'lots', num_items: 'x' } }
    const more = gameEvents('a', 5, 100)
    await post(s, s.keys.acme, [...more.slice(0, 6), bad, ...more.slice(6)])
    await waitForEvents(s, defaults.length + acme.length + more.length + 1)

    const after = await allReports(s, s.keys.read)
    for (const [name, r] of Object.entries(after)) {
      expect(r.status, `${name}: ${JSON.stringify(r.body)}`).toBe(200)
      expect(r.body, name).toEqual(before[name]!.body)
    }
    // The tenant that sent it gets answers too.
    for (const [name, r] of Object.entries(await allReports(s, s.keys.acme))) expect(r.status, `${name}: ${JSON.stringify(r.body)}`).toBe(200)

    for (const view of ['events', 'buys', 'social', 'profiles', 'segment_changes', 'notifications']) {
      const r = await sql(s, `SELECT * FROM ${view}`)
      expect(r.status, `${view}: ${r.body}`).toBe(200)
    }
    const costs = await sql(s, `SELECT count(*)::INTEGER, count(cost)::INTEGER, round(sum(cost), 2) FROM buys WHERE tenant = 'acme'`)
    expect(costs.status, costs.body).toBe(200)
    expect(costs.rows[0]!.slice(0, 2)).toEqual([26, 25])
    // The value that did not fit is kept, beside the column, not in it.
    const rescued = await sql(s, `SELECT cost, player_wealth, _rescued FROM events WHERE _rescued IS NOT NULL`)
    expect(rescued.status, rescued.body).toBe(200)
    expect(rescued.rows.length).toBe(1)
    expect(rescued.rows[0]!.slice(0, 2)).toEqual([null, null])
    expect(JSON.parse(String(rescued.rows[0]![2]))).toEqual({ cost: 'abc', player_wealth: 'lots', player_num_items: 'x' })
    // Every file keeps cost as a DOUBLE: the column's type never changed.
    const types = await sql(s, `SELECT DISTINCT type FROM parquet_schema('${s.dataDir}/warehouse/events/*/event=purchase/*.parquet') WHERE name = 'cost'`)
    expect(types.status, types.body).toBe(200)
    expect(types.rows).toEqual([['DOUBLE']])
  }, 120_000)
})
