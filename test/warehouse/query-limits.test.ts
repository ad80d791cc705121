import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openWarehouse, QUERY_DEFAULTS, QueryError, type Warehouse } from '../../src/warehouse/query/index.ts'

/**
 * Issue 15, item 8: `select length(repeat('x', 1500000000))` ran 112 s against a 10 s limit, with
 * DuckDB's memory limit at 80% of the machine and its spill files in <cwd>/.tmp.
 */
describe('warehouse query limits', () => {
  const root = mkdtempSync(join(tmpdir(), 'tagstream-query-limits-'))
  let wh: Warehouse
  beforeAll(async () => {
    wh = await openWarehouse(root, { refreshMs: 0 })
  })
  afterAll(() => {
    wh.close()
    rmSync(root, { recursive: true, force: true })
  })

  const setting = async (name: string): Promise<unknown> => (await wh.query(`SELECT current_setting('${name}')`)).rows[0]![0]

  it('caps DuckDB memory and keeps its spill files under the warehouse directory', async () => {
    const limit = String(await setting('memory_limit'))
    const mib = Number(/^([\d.]+)\s*MiB$/.exec(limit)?.[1] ?? NaN) || Number(/^([\d.]+)\s*GiB$/.exec(limit)?.[1] ?? NaN) * 1024
    expect(mib).toBeLessThanOrEqual(QUERY_DEFAULTS.memoryLimitBytes / 1024 ** 2 + 1)
    expect(mib).toBeGreaterThan(0)
    expect(String(await setting('temp_directory'))).toBe(join(root, '.duckdb-tmp'))
  })

  it('answers a query that cannot be interrupted with a timeout soon after its limit', async () => {
    const started = Date.now()
    const err = await wh.query(`SELECT length(repeat('x', 1500000000))`, { timeoutMs: 500 }).catch((e: unknown) => e)
    const took = Date.now() - started
    expect(err).toBeInstanceOf(QueryError)
    // Either DuckDB refused the allocation (memory limit) or the caller was answered at the limit.
    expect(['timeout', 'sql_error']).toContain((err as QueryError).code)
    expect(took).toBeLessThan(500 + 1_000 + 1_000)
  })

  it('refuses more queries while an abandoned one still runs, then serves again', async () => {
    const one = await openWarehouse(join(root, 'one'), { refreshMs: 0, maxRunning: 1 })
    try {
      const err = await one.query(`SELECT length(repeat('x', 1000000000))`, { timeoutMs: 100 }).catch((e: unknown) => e)
      expect((err as QueryError).code).toBe('timeout')
      // DuckDB is still building the string (seconds): its slot is taken.
      const busy = await one.query('SELECT 1').catch((e: unknown) => e)
      expect(busy).toBeInstanceOf(QueryError)
      expect((busy as QueryError).code).toBe('busy')
      expect((busy as QueryError).status).toBe(503)
      const deadline = Date.now() + 60_000
      for (;;) {
        const r = await one.query('SELECT 42 AS x').catch((e: unknown) => e)
        if (!(r instanceof QueryError)) {
          expect((r as { rows: unknown[][] }).rows).toEqual([[42]])
          break
        }
        expect(r.code).toBe('busy')
        expect(Date.now()).toBeLessThan(deadline)
        await new Promise((done) => setTimeout(done, 200))
      }
    } finally {
      one.close()
    }
  })

  it('lets one owner hold at most half of the slots, so another owner is still served', async () => {
    const two = await openWarehouse(join(root, 'two'), { refreshMs: 0, maxRunning: 2 })
    try {
      const err = await two.query(`SELECT length(repeat('x', 1000000000))`, { timeoutMs: 100, owner: 'acme' }).catch((e: unknown) => e)
      expect((err as QueryError).code).toBe('timeout')
      // acme's abandoned query still runs: acme is at its share, the other tenant is not.
      const again = await two.query('SELECT 1', { owner: 'acme' }).catch((e: unknown) => e)
      expect((again as QueryError).code).toBe('busy')
      const other = await two.query('SELECT 7 AS x', { owner: 'default' })
      expect(other.rows).toEqual([[7]])
      for (const deadline = Date.now() + 60_000; ;) {
        const r = await two.query('SELECT 1', { owner: 'acme' }).catch((e: unknown) => e)
        if (!(r instanceof QueryError)) break
        expect(Date.now()).toBeLessThan(deadline)
        await new Promise((done) => setTimeout(done, 200))
      }
    } finally {
      two.close()
    }
  })
})
