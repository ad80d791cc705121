import Fastify, { type FastifyInstance } from 'fastify'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../../src/api/config.ts'
import { queryRoutes } from '../../src/api/routes/query.ts'
import { queryRouteContext, smallWarehouse, tempRoot, writeEvents } from './fixtures.ts'

/*
 * A tenant admin's SQL (docs/tenancy.md, "Tenant SQL"): it reads its own tenant's rows through the
 * views, and every way out this test can think of is refused before anything runs.
 */

let dataDir: string
let app: FastifyInstance
const keys = [
  { key: 'acme-admin', tenant: 'acme', scopes: ['read' as const, 'admin' as const] },
  { key: 'ops', tenant: 'acme', scopes: ['operator' as const] },
]

beforeAll(async () => {
  dataDir = tempRoot()
  const root = await smallWarehouse(join(dataDir, 'warehouse'))
  await writeEvents(root, [{ event: 'purchase', user_id: 'x', ts: '2026-01-01T12:00:00Z', tenant: 'acme', properties: { kind: 'sword', type: 'cutlass', cost: 999, status: 'approved_purchase' } }], {
    startOffset: 100,
  })
  app = Fastify()
  await queryRoutes(app, queryRouteContext(defaultConfig({ dataDir, keys, retentionDays: 3650 })))
  await app.ready()
})
afterAll(async () => {
  await app.close()
  rmSync(dataDir, { recursive: true, force: true })
})

async function query(sql: string, key = 'acme-admin'): Promise<{ status: number; body: { rows?: unknown[][]; error?: { code: string; message: string } } }> {
  const res = await app.inject({ method: 'POST', url: '/v1/query', headers: { authorization: `Bearer ${key}` }, payload: { sql } })
  return { status: res.statusCode, body: res.json() }
}

describe("a tenant admin's SQL", () => {
  it("reads its own tenant's rows, in every view", async () => {
    expect((await query('SELECT tenant, count(*)::INTEGER FROM buys GROUP BY tenant')).body.rows).toEqual([['acme', 1]])
    expect((await query("SELECT count(*)::INTEGER FROM events WHERE tenant <> 'acme'")).body.rows).toEqual([[0]])
    for (const view of ['events', 'buys', 'social', 'segment_changes', 'notifications', 'identities', 'profiles', 'sessions', 'predictions']) {
      const r = await query(`SELECT count(*)::INTEGER FROM ${view} WHERE tenant IS DISTINCT FROM 'acme'`)
      expect(r, view).toMatchObject({ status: 200, body: { rows: [[0]] } })
    }
    // The operator reads every tenant's.
    const all = await query('SELECT DISTINCT tenant FROM buys ORDER BY tenant', 'ops')
    expect(all.body.rows).toEqual([['acme'], ['default']])
  })

  it('keeps what SQL users write: CTEs, joins, subqueries, window functions, unions, VALUES', async () => {
    for (const sql of [
      'WITH b AS (SELECT user_id, cost FROM buys) SELECT user_id, sum(cost) FROM b GROUP BY ALL ORDER BY 2 DESC LIMIT 5',
      'SELECT e.event, count(*) FROM events e JOIN buys b ON b.user_id = e.user_id GROUP BY 1',
      'SELECT * FROM events WHERE user_id IN (SELECT user_id FROM buys) QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY ts) = 1',
      'SELECT user_id FROM buys UNION ALL SELECT user_id FROM social',
      'SELECT * FROM (VALUES (1, 2)) t(a, b)',
      "SELECT date_trunc('day', ts) AS d, count(DISTINCT user_id) FROM events GROUP BY d ORDER BY d",
      'SELECT 1 + 1',
      'WITH events AS (SELECT 1 AS n) SELECT n FROM events',
    ]) {
      const r = await query(sql)
      expect(r.status, `${sql}: ${JSON.stringify(r.body.error)}`).toBe(200)
    }
  })

  it('cannot reach other rows, files, settings or the catalog', async () => {
    for (const sql of [
      'SELECT * FROM main.buys',
      'SELECT * FROM MAIN.BUYS',
      'SELECT * FROM memory.main.buys',
      'SELECT * FROM temp.buys',
      'SELECT * FROM buys UNION ALL SELECT * FROM main.buys',
      'SELECT (SELECT count(*) FROM main.events)',
      'SELECT * FROM events, LATERAL (SELECT * FROM main.buys) x',
      "SELECT * FROM read_parquet('warehouse/**/*.parquet')",
      "SELECT * FROM 'warehouse/events/**/*.parquet'",
      "SELECT * FROM glob('**')",
      "SELECT * FROM query('SELECT * FROM main.buys')",
      'SELECT * FROM duckdb_tables()',
      'SELECT * FROM information_schema.tables',
      'SELECT * FROM sqlite_master',
      "SELECT current_setting('allowed_directories')",
      "SELECT getenv('HOME')",
      'WITH sqlite_master AS (SELECT 1) SELECT * FROM sqlite_master',
      "SELECT json_serialize_sql('SELECT 1')",
    ]) {
      const r = await query(sql)
      expect(r.status, sql).toBe(403)
      expect(r.body.error?.code, sql).toBe('forbidden_sql')
    }
    for (const sql of ['PRAGMA database_list', 'DESCRIBE main.buys', "ATTACH 'x.db'", 'SET search_path = main', 'SELECT 1; SELECT 2']) {
      const r = await query(sql)
      expect([400, 403], sql).toContain(r.status)
    }
  })

  it('needs the admin or operator scope, and says which', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/query', payload: { sql: 'SELECT 1' } })
    expect(res.statusCode).toBe(401)
  })
})
