import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openWarehouse, type QueryResult, type Warehouse } from '../../src/warehouse/query/index.ts'
import { listReports, ReportParamError, runReport, UnknownReportError } from '../../src/warehouse/reports/index.ts'
import { smallWarehouse, tempRoot, writeEvents } from './fixtures.ts'

let root: string
let wh: Warehouse

beforeAll(async () => {
  root = await smallWarehouse()
  // A second tenant's events: the tenant parameter must keep them out.
  await writeEvents(
    root,
    [
      {
        event: 'purchase',
        user_id: 'x',
        ts: '2026-01-01T12:00:00Z',
        tenant: 'acme',
        properties: { kind: 'sword', type: 'cutlass', cost: 999, status: 'approved_purchase', player_wealth: 1, host: 'a.cox.net' },
      },
    ],
    { startOffset: 100 },
  )
  wh = await openWarehouse(root)
})
afterAll(() => {
  wh.close()
  rmSync(root, { recursive: true, force: true })
})

const run = (name: string, params: Record<string, string | number> = {}) => runReport(wh, name, { tenant: 'default', ...params })
const objects = (r: QueryResult) => r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]])))

describe('reports on the small dataset', () => {
  it('popular_events', async () => {
    const r = objects(await run('popular_events'))
    expect(r[0]).toEqual({ event_type: 'login', events: 5 })
    expect(r).toContainEqual({ event_type: 'buy_sword', events: 3 })
    expect(r).toContainEqual({ event_type: 'buy_spell', events: 1 })
    expect(r.reduce((s, x) => s + (x.events as number), 0)).toBe(15)
  })

  it('events_by_provider parses the Host header', async () => {
    const r = objects(await run('events_by_provider'))
    const total = (p: string) => r.filter((x) => x.provider === p).reduce((s, x) => s + (x.events as number), 0)
    expect(new Set(r.map((x) => x.provider))).toEqual(new Set(['comcast', 'earthlink']))
    expect(total('comcast')).toBe(5)
    expect(total('earthlink')).toBe(10)
    expect(r).toContainEqual({ provider: 'earthlink', event_type: 'login', events: 4 })
    expect(r).toContainEqual({ provider: 'comcast', event_type: 'buy_sword', events: 1 })
  })

  it('items_by_type_status (seed 003)', async () => {
    expect((await run('items_by_type_status')).rows).toEqual([
      ['approved_purchase', 'charm', 1],
      ['approved_purchase', 'cutlass', 1],
      ['approved_purchase', 'saber', 1],
      ['insufficient_funds', 'cutlass', 1],
    ])
  })

  it('avg_price_by_type counts approved purchases only', async () => {
    expect((await run('avg_price_by_type')).rows).toEqual([
      ['charm', 150, 1],
      ['cutlass', 100, 1],
      ['saber', 40, 1],
    ])
  })

  it('popular_orgs', async () => {
    expect((await run('popular_orgs')).rows).toEqual([
      ['join_guild', 'magicians', 1],
      ['join_guild', 'soldiers', 1],
      ['join_team', 'soldiers', 1],
    ])
  })

  it('avg_wealth_by_org', async () => {
    expect((await run('avg_wealth_by_org')).rows).toEqual([
      ['magicians', 5000, 1],
      ['soldiers', 2875, 2],
    ])
  })

  it('first_login_to_first_purchase (seed 002): mean of 600 s and 1200 s', async () => {
    expect(objects(await run('first_login_to_first_purchase'))).toEqual([{ users: 2, mean_seconds: 900, median_seconds: 900, min_seconds: 600, max_seconds: 1200 }])
  })

  it("wealth_distribution uses each player's latest wealth", async () => {
    expect((await run('wealth_distribution')).rows).toEqual([
      [10, 100, 1],
      [100, 1000, 1],
      [1000, 10000, 1],
    ])
    expect((await run('wealth_distribution', { width: 1000 })).rows).toEqual([
      [0, 1000, 2],
      [5000, 6000, 1],
    ])
  })

  it('daily_active_users', async () => {
    expect((await run('daily_active_users')).rows).toEqual([
      ['2026-01-01', 3, 10],
      ['2026-01-02', 3, 5],
    ])
  })

  it('segment_sizes_over_time keeps a running member count', async () => {
    expect((await run('segment_sizes_over_time')).rows).toEqual([
      ['high_roller', '2026-01-01T10:00:00.000Z', 2, 0, 2],
      ['high_roller', '2026-01-01T11:00:00.000Z', 0, 1, 1],
      ['lapsed', '2026-01-02T13:00:00.000Z', 1, 0, 1],
    ])
  })

  it("tenant '*' (the default) includes every tenant", async () => {
    expect((await runReport(wh, 'avg_price_by_type')).rows).toContainEqual(['cutlass', 549.5, 2])
    expect((await runReport(wh, 'popular_events', { tenant: 'acme' })).rows).toEqual([['buy_sword', 1]])
  })
})

describe('report catalogue', () => {
  it('lists every report with its question and SQL', () => {
    const names = listReports().map((r) => r.name)
    expect(names).toEqual([
      'popular_events',
      'events_by_provider',
      'events_by_listed_provider',
      'items_by_type_status',
      'avg_price_by_type',
      'popular_orgs',
      'avg_wealth_by_org',
      'first_login_to_first_purchase',
      'first_login_to_first_org_join',
      'wealth_distribution',
      'wealth_by_time_played',
      'daily_active_users',
      'segment_sizes_over_time',
    ])
    for (const r of listReports()) expect(r.question.length).toBeGreaterThan(10)
  })

  it('unknown reports and parameters are errors', async () => {
    await expect(runReport(wh, 'nope')).rejects.toBeInstanceOf(UnknownReportError)
    await expect(runReport(wh, 'popular_events', { width: 3 })).rejects.toBeInstanceOf(ReportParamError)
    await expect(runReport(wh, 'wealth_distribution', { width: 'abc' })).rejects.toThrow(/non-negative number/)
  })

  it('every report runs on an empty warehouse', async () => {
    const empty = tempRoot()
    const w = await openWarehouse(empty)
    try {
      for (const r of listReports()) {
        const res = await runReport(w, r.name)
        expect(res.rows.length, r.name).toBeLessThanOrEqual(1)
      }
    } finally {
      w.close()
      rmSync(empty, { recursive: true, force: true })
    }
  })
})
