/**
 * The `predictions` view, and every other view and report left as it was by prediction rows
 * (docs/warehouse.md, "Views"). Two warehouses are built by the sink from two logs holding the same
 * activity at the same offsets; one log also holds prediction events, appended after the activity.
 * Every view derived from events, and every named report, must answer the same over both; the
 * `predictions` view has the scores, typed, and only the asking tenant's rows for a tenant's query.
 */
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { validateEvent, type TrackedEvent } from '../../src/events/index.ts'
import type { EventLog } from '../../src/log/event-log.ts'
import { openWarehouse, VIEW_NAMES, type QueryResult, type Warehouse } from '../../src/warehouse/query/index.ts'
import { listReports, runReport } from '../../src/warehouse/reports/index.ts'
import { runSinkOnce } from '../../src/warehouse/sink/index.ts'
import { tempRoot, writeEvents } from './fixtures.ts'
import { predictionEvent, scoresFor } from './prediction-events.ts'
import { appendAll, logAndWarehouse } from './sink-helpers.ts'

const dirs: string[] = []
const opened: Warehouse[] = []
afterAll(() => {
  for (const wh of opened) wh.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const T0 = Date.UTC(2026, 10, 1, 20)
/** Inside the activity (some users' sessions span it) and after it (others' would gain one). */
const SCORED = [Date.UTC(2026, 10, 1, 21, 10), Date.UTC(2026, 10, 2, 3)]
const TENANTS = ['default', 'acme'] as const

/** Game events (seeds 002/003) for 20 users of each tenant: logins, purchases, guild joins, spins, every few minutes. */
function activity(): TrackedEvent[] {
  const out: TrackedEvent[] = []
  let n = 0
  for (const tenant of TENANTS) {
    for (let u = 1; u <= 20; u++) {
      const common = { host: `u${u}.${u % 2 === 0 ? 'comcast.net' : 'earthlink.com'}:5000`, player_wealth: u * 100 }
      const raw = [
        { event: 'login', status: 'ok', ...common },
        { event: 'purchase', kind: u % 3 === 0 ? 'spell' : 'sword', type: 'cutlass', cost: u, status: 'approved_purchase', ...common },
        { event: 'spin', bet: u },
        { event: 'join_guild', org: `g${u % 4}`, status: 'approved_join', level: 'novice', cost: 5, ...common },
        { event: 'spin', bet: 2 * u },
      ]
      raw.forEach((r, i) => {
        const ts = T0 + u * 7 * 60_000 + i * 11 * 60_000
        const v = validateEvent({ ...r, user_id: String(u), ts, event_id: `a${n++}` }, { receivedAt: ts + 5, tenant })
        if (!v.ok) throw new Error(v.error.reason)
        out.push(v.event)
      })
    }
  }
  return out
}

/** Two runs' predictions for users 1–15 of each tenant. */
function predictions(): TrackedEvent[] {
  return TENANTS.flatMap((tenant, t) => SCORED.flatMap((ts, run) => Array.from({ length: 15 }, (_, i) => predictionEvent(String(i + 1), ts, scoresFor(i + 1 + t), { tenant, model: `m-${run}` }))))
}

async function build(prefix: string, extra: readonly TrackedEvent[]): Promise<{ root: string; log: EventLog; partitions: number }> {
  const { log, partitions, root } = await logAndWarehouse(prefix, dirs)
  await appendAll(log, activity(), partitions)
  await appendAll(log, extra, partitions)
  await runSinkOnce(log, root)
  return { root, log, partitions }
}

const objects = (r: QueryResult) => r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]])))
const all = (wh: Warehouse, sql: string, tenant?: string) => wh.query(sql, { maxRows: 100_000, tenant }).then(objects)
/** A view's rows in a fixed order (every column, so the order is total). */
const viewRows = (wh: Warehouse, view: string) => all(wh, `SELECT * FROM ${view} ORDER BY ALL`)

const PREDICTION_TYPES = [
  ['tenant', 'VARCHAR'],
  ['user_id', 'VARCHAR'],
  ['scored_at', 'TIMESTAMP WITH TIME ZONE'],
  ['purchase_7d', 'DOUBLE'],
  ['churn_7d', 'DOUBLE'],
  ['wealth_30d', 'DOUBLE'],
  ['model_version', 'VARCHAR'],
  ['event_id', 'VARCHAR'],
  ['dt', 'DATE'],
]
const typesOf = async (wh: Warehouse, view: string) => (await wh.query(`DESCRIBE ${view}`)).rows.map((r) => [r[0], r[1]])

let plain: Warehouse
let scored: Warehouse
let live: Awaited<ReturnType<typeof build>>
const expected = predictions()

beforeAll(async () => {
  const a = await build('tagstream-pred-plain-', [])
  await a.log.close()
  live = await build('tagstream-pred-scored-', expected)
  plain = await openWarehouse(a.root)
  scored = await openWarehouse(live.root)
  opened.push(plain, scored)
})
afterAll(() => live.log.close())

describe('the predictions view', () => {
  it('is typed before any file exists, and before any prediction file exists', async () => {
    const empty = await openWarehouse(tempRoot())
    opened.push(empty)
    expect(VIEW_NAMES).toContain('predictions')
    expect(await typesOf(empty, 'predictions')).toEqual(PREDICTION_TYPES)
    expect((await empty.query('SELECT count(*) FROM predictions')).rows).toEqual([[0]])
    expect(await typesOf(plain, 'predictions')).toEqual(PREDICTION_TYPES)
    expect(await typesOf(scored, 'predictions')).toEqual(PREDICTION_TYPES)
  })

  it('holds one row per prediction event: scores, version, scoring time, day', async () => {
    const rows = await all(scored, 'SELECT * FROM predictions ORDER BY tenant, scored_at, user_id::INTEGER')
    const want = expected
      .map((p) => ({
        tenant: p.tenant,
        user_id: p.user_id,
        scored_at: new Date(p.ts).toISOString(),
        ...p.properties,
        event_id: p.event_id,
        dt: new Date(p.ts).toISOString().slice(0, 10),
      }))
      .sort((a, b) => (a.tenant !== b.tenant ? (a.tenant < b.tenant ? -1 : 1) : a.scored_at !== b.scored_at ? (a.scored_at < b.scored_at ? -1 : 1) : Number(a.user_id) - Number(b.user_id)))
    expect(rows).toEqual(want)
    expect(rows.some((r) => r.wealth_30d === null)).toBe(true)
  })

  it("gives a tenant's query its own tenant's predictions only", async () => {
    expect(await all(scored, 'SELECT DISTINCT tenant FROM predictions', 'acme')).toEqual([{ tenant: 'acme' }])
    expect(await all(scored, 'SELECT count(*)::INTEGER AS n FROM predictions', 'acme')).toEqual([{ n: 30 }])
    expect(await all(scored, 'SELECT tenant, count(*)::INTEGER AS n FROM predictions GROUP BY ALL ORDER BY ALL')).toEqual([
      { tenant: 'acme', n: 30 },
      { tenant: 'default', n: 30 },
    ])
  })

  it('reads a score some file typed otherwise as NULL rather than failing', async () => {
    const root = tempRoot()
    dirs.push(root)
    const ts = '2026-11-02T03:00:00Z'
    await writeEvents(root, [{ event: '$prediction', user_id: 'a', ts, properties: { purchase_7d: 0.5, churn_7d: 0.1, model_version: 'm' } }])
    await writeEvents(root, [{ event: '$prediction', user_id: 'b', ts, properties: { purchase_7d: 'high', model_version: 7 } }], { partition: 1 })
    const wh = await openWarehouse(root)
    opened.push(wh)
    expect(await typesOf(wh, 'predictions')).toEqual(PREDICTION_TYPES)
    expect(await all(wh, 'SELECT user_id, purchase_7d, churn_7d, wealth_30d, model_version FROM predictions ORDER BY user_id')).toEqual([
      { user_id: 'a', purchase_7d: 0.5, churn_7d: 0.1, wealth_30d: null, model_version: 'm' },
      { user_id: 'b', purchase_7d: null, churn_7d: null, wealth_30d: null, model_version: '7.0' },
    ])
  })
})

describe('views and reports over activity', () => {
  it('leave prediction rows out: every view but predictions answers as without them', async () => {
    expect((await all(scored, "SELECT count(*)::INTEGER AS n FROM events WHERE starts_with(event, '$')")).at(0)).toEqual({ n: 0 })
    expect((await typesOf(scored, 'events')).map(([name]) => name)).not.toContain('purchase_7d')
    for (const view of VIEW_NAMES.filter((v) => v !== 'predictions')) {
      expect(await viewRows(scored, view), view).toEqual(await viewRows(plain, view))
    }
    // Not empty comparisons: the views above have rows.
    for (const view of ['events', 'buys', 'social', 'profiles', 'sessions']) expect((await viewRows(plain, view)).length, view).toBeGreaterThan(0)
  })

  it('leave prediction rows out of every named report', async () => {
    for (const { name } of listReports()) {
      const [a, b] = await Promise.all([runReport(scored, name, { tenant: '*' }), runReport(plain, name, { tenant: '*' })])
      expect({ name, columns: a.columns, rows: a.rows }).toEqual({ name, columns: b.columns, rows: b.rows })
    }
    expect((await runReport(plain, 'popular_events', { tenant: '*' })).rows.length).toBeGreaterThan(0)
  })

  it('leave them out of the materialised sessions, built and brought up to date', async () => {
    const wh = await openWarehouse(live.root, { materialiseSessions: true })
    opened.push(wh)
    await wh.query('SELECT 1')
    await wh.settled()
    const want = await viewRows(plain, 'sessions')
    expect(await viewRows(wh, 'sessions')).toEqual(want)
    // A later run's predictions: the update takes the new files and counts none of them.
    await appendAll(
      live.log,
      TENANTS.map((tenant) => predictionEvent('3', Date.UTC(2026, 10, 2, 9), scoresFor(3), { tenant, model: 'm-2' })),
      live.partitions,
    )
    await runSinkOnce(live.log, live.root)
    await wh.refresh(true)
    await wh.settled()
    expect(await all(wh, 'SELECT count(*)::INTEGER AS n FROM predictions')).toEqual([{ n: expected.length + 2 }])
    expect(await viewRows(wh, 'sessions')).toEqual(want)
  })
})
