import Fastify, { type FastifyInstance } from 'fastify'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../../src/api/config.ts'
import { queryRoutes } from '../../src/api/routes/query.ts'
import { queryRouteContext, smallWarehouse, tempRoot, writeEvents } from './fixtures.ts'

let dataDir: string
let app: FastifyInstance
const keys = [
  { key: 'reader', tenant: 'default', scopes: ['read' as const] },
  { key: 'admin', tenant: 'default', scopes: ['read' as const, 'admin' as const, 'operator' as const] },
  { key: 'tenant-admin', tenant: 'acme', scopes: ['read' as const, 'admin' as const] },
  { key: 'writer', tenant: 'default', scopes: ['write' as const] },
  { key: 'acme', tenant: 'acme', scopes: ['read' as const] },
]

beforeAll(async () => {
  dataDir = tempRoot()
  const root = await smallWarehouse(join(dataDir, 'warehouse'))
  await writeEvents(root, [{ event: 'purchase', user_id: 'x', ts: '2026-01-01T12:00:00Z', tenant: 'acme', properties: { kind: 'sword', type: 'cutlass', cost: 999, status: 'approved_purchase' } }], {
    startOffset: 100,
  })
  const config = defaultConfig({ dataDir, keys, retentionDays: 3650 })
  const ctx = queryRouteContext(config)
  app = Fastify()
  await queryRoutes(app, ctx)
  await app.ready()
})
afterAll(async () => {
  await app.close()
  rmSync(dataDir, { recursive: true, force: true })
})

const auth = (key = 'reader') => ({ authorization: `Bearer ${key}` })

describe('POST /v1/query', () => {
  it('answers columns, rows, truncated, ms', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/query', headers: auth('admin'), payload: { sql: 'SELECT type, cost FROM buys WHERE tenant = \'default\' ORDER BY "timestamp" LIMIT 2' } })
    expect(res.statusCode).toBe(200)
    const body = res.json<{ columns: unknown; rows: unknown; truncated: boolean; ms: number }>()
    expect(body.columns).toEqual([
      { name: 'type', type: 'VARCHAR' },
      { name: 'cost', type: 'DOUBLE' },
    ])
    expect(body.rows).toEqual([
      ['cutlass', 100],
      ['cutlass', 200],
    ])
    expect(body.truncated).toBe(false)
    expect(typeof body.ms).toBe('number')
  })

  it('applies limit', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/query', headers: auth('admin'), payload: { sql: 'SELECT * FROM events', limit: 3 } })
    expect(res.json<{ rows: unknown[]; truncated: boolean }>()).toMatchObject({ truncated: true })
    expect(res.json<{ rows: unknown[] }>().rows).toHaveLength(3)
  })

  it('400 with the reason for writes, SQL errors and bad bodies', async () => {
    const drop = await app.inject({ method: 'POST', url: '/v1/query', headers: auth('admin'), payload: { sql: 'DROP VIEW events' } })
    expect(drop.statusCode).toBe(400)
    expect(drop.json()).toEqual({ error: { code: 'read_only', message: 'only SELECT and WITH queries are allowed (got DROP)' } })
    const bad = await app.inject({ method: 'POST', url: '/v1/query', headers: auth('admin'), payload: { sql: 'SELECT nope FROM events' } })
    expect(bad.statusCode).toBe(400)
    expect(bad.json<{ error: { code: string; message: string } }>().error).toMatchObject({ code: 'sql_error', message: expect.stringMatching(/nope/) })
    expect((await app.inject({ method: 'POST', url: '/v1/query', headers: auth('admin'), payload: { limit: 2 } })).statusCode).toBe(400)
  })

  it('needs a key with the admin or operator scope; an admin reads its own tenant only', async () => {
    expect((await app.inject({ method: 'POST', url: '/v1/query', payload: { sql: 'SELECT 1' } })).statusCode).toBe(401)
    expect((await app.inject({ method: 'POST', url: '/v1/query', headers: auth('writer'), payload: { sql: 'SELECT 1' } })).statusCode).toBe(403)
    const reader = await app.inject({ method: 'POST', url: '/v1/query', headers: auth('reader'), payload: { sql: 'SELECT 1' } })
    expect(reader.statusCode).toBe(403)
    expect(reader.json()).toMatchObject({ error: { code: 'forbidden', message: expect.stringContaining('the admin scope') } })
    // One tenant's admin does not see another tenant's rows (the acme admin asks for default's buys).
    const tenantAdmin = await app.inject({ method: 'POST', url: '/v1/query', headers: auth('tenant-admin'), payload: { sql: "SELECT count(*)::INTEGER AS n FROM buys WHERE tenant = 'default'" } })
    expect(tenantAdmin.statusCode).toBe(200)
    expect(tenantAdmin.json()).toMatchObject({ rows: [[0]] })
    const operator = await app.inject({ method: 'POST', url: '/v1/query', headers: auth('admin'), payload: { sql: "SELECT count(*)::INTEGER AS n FROM buys WHERE tenant = 'default'" } })
    expect((operator.json() as { rows: number[][] }).rows[0]![0]).toBeGreaterThan(0)
  })
})

describe('GET /v1/reports', () => {
  it('lists the reports', async () => {
    const res = await app.inject({ url: '/v1/reports', headers: auth() })
    expect(res.statusCode).toBe(200)
    expect(res.json<{ reports: Array<{ name: string }> }>().reports.map((r) => r.name)).toContain('avg_price_by_type')
  })

  it("runs a report over the key's tenant only", async () => {
    const res = await app.inject({ url: '/v1/reports/avg_price_by_type', headers: auth() })
    expect(res.statusCode).toBe(200)
    expect(res.json<{ rows: unknown }>().rows).toEqual([
      ['charm', 150, 1],
      ['cutlass', 100, 1],
      ['saber', 40, 1],
    ])
    const acme = await app.inject({ url: '/v1/reports/avg_price_by_type?tenant=default', headers: auth('acme') })
    expect(acme.json<{ rows: unknown }>().rows).toEqual([['cutlass', 999, 1]])
  })

  it('passes parameters, 400 for bad ones, 404 for unknown reports', async () => {
    const res = await app.inject({ url: '/v1/reports/wealth_distribution?width=1000', headers: auth() })
    expect(res.json<{ rows: unknown }>().rows).toEqual([
      [0, 1000, 2],
      [5000, 6000, 1],
    ])
    const bad = await app.inject({ url: '/v1/reports/wealth_distribution?width=x', headers: auth() })
    expect(bad.statusCode).toBe(400)
    expect(bad.json<{ error: { field: string } }>().error.field).toBe('width')
    const missing = await app.inject({ url: '/v1/reports/nope', headers: auth() })
    expect(missing.statusCode).toBe(404)
    expect(missing.json<{ error: { code: string } }>().error.code).toBe('not_found')
    expect((await app.inject({ url: '/v1/reports/popular_events', headers: auth('writer') })).statusCode).toBe(403)
  })
})
