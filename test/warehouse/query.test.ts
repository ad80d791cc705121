import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openWarehouse, QueryError, type Warehouse } from '../../src/warehouse/query/index.ts'
import { smallWarehouse, tempRoot, writeEvents } from './fixtures.ts'

let root: string
let wh: Warehouse

beforeAll(async () => {
  root = await smallWarehouse()
  wh = await openWarehouse(root)
})
afterAll(() => {
  wh.close()
  rmSync(root, { recursive: true, force: true })
})

async function refused(sql: string): Promise<QueryError> {
  const err = await wh.query(sql).then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(QueryError)
  return err as QueryError
}

describe('views', () => {
  it('events has every column, dt and event from the path, one event column', async () => {
    const r = await wh.query('SELECT event, dt, count(*) AS n FROM events GROUP BY ALL ORDER BY dt, event')
    expect(r.columns.map((c) => c.name)).toEqual(['event', 'dt', 'n'])
    expect(r.rows).toContainEqual(['purchase', '2026-01-01', 4])
    expect(r.rows).toContainEqual(['join_team', '2026-01-02', 1])
    const cols = (await wh.query('DESCRIBE events')).rows.map((row) => row[0])
    expect(cols.filter((c) => c === 'event')).toHaveLength(1)
    expect(cols).toEqual(expect.arrayContaining(['offset', 'properties', 'host', 'player_wealth', 'org']))
  })

  it('buys has seed 003 columns', async () => {
    const r = await wh.query(`SELECT "timestamp", event_type, user_id, status, type, cost, player_num_items, host FROM buys ORDER BY "timestamp" LIMIT 1`)
    expect(r.rows[0]).toEqual(['2026-01-01T10:11:00.000Z', 'buy_sword', 'user1', 'approved_purchase', 'cutlass', 100, 1, 'user1.comcast.com'])
    expect(r.columns.find((c) => c.name === 'player_num_items')?.type).toBe('INTEGER')
  })

  it('social unions join_guild and join_team', async () => {
    const r = await wh.query('SELECT event_type, org, player_wealth FROM social ORDER BY "timestamp"')
    expect(r.rows).toEqual([
      ['join_guild', 'soldiers', 750],
      ['join_team', 'soldiers', 5000],
      ['join_guild', 'magicians', 5000],
    ])
  })

  it('segment_changes presents epoch-ms `at` as a UTC instant', async () => {
    const r = await wh.query(`SELECT "at" FROM segment_changes ORDER BY "at" LIMIT 1`)
    expect(r.columns[0]!.type).toBe('TIMESTAMP WITH TIME ZONE')
    expect(r.rows[0]![0]).toBe('2026-01-01T10:05:00.000Z')
  })

  it('every view works on an empty warehouse, and picks up files written later', async () => {
    const empty = tempRoot()
    const w = await openWarehouse(empty, { refreshMs: 0 })
    try {
      for (const v of ['events', 'buys', 'social', 'segment_changes', 'notifications', 'profiles']) {
        const r = await w.query(`SELECT count(*) AS n FROM ${v}`)
        expect(r.rows).toEqual([[0]])
      }
      expect((await w.query('SELECT cost, player_wealth FROM buys')).columns.map((c) => c.type)).toEqual(['DOUBLE', 'DOUBLE'])
      await writeEvents(empty, [{ event: 'purchase', user_id: 'u', ts: '2026-02-01T00:00:00Z', properties: { kind: 'sword', cost: 5 } }])
      expect((await w.query('SELECT event_type, cost, status FROM buys')).rows).toEqual([['buy_sword', 5, null]])
    } finally {
      w.close()
      rmSync(empty, { recursive: true, force: true })
    }
  })
})

describe('query safety', () => {
  it.each([
    ['INSERT INTO events VALUES (1)', 'INSERT'],
    ['DROP VIEW events', 'DROP'],
    ["ATTACH '/tmp/x.db'", 'ATTACH'],
    ["COPY (SELECT 1) TO '/tmp/x.csv'", 'COPY'],
    ['PRAGMA version', 'PRAGMA'],
    ['CREATE TABLE t AS SELECT 1', 'CREATE'],
    ['SET threads = 1', 'SET'],
    ['/* hi */ -- x\n DELETE FROM events', 'DELETE'],
  ])('rejects %s', async (sql, kw) => {
    const err = await refused(sql)
    expect(err.code).toBe('read_only')
    expect(err.message).toBe(`only SELECT and WITH queries are allowed (got ${kw})`)
  })

  it('rejects several statements, even if the first is a SELECT', async () => {
    const err = await refused('SELECT 1; DROP VIEW events')
    expect(err.code).toBe('read_only')
    expect(err.message).toMatch(/^only SELECT and WITH queries are allowed, one statement at a time \(got 2\)$/)
    expect((await wh.query('SELECT count(*) FROM events')).rows[0]![0]).toBe(15)
  })

  it('accepts WITH, FROM-first and a trailing semicolon', async () => {
    expect((await wh.query('WITH a AS (SELECT 2 AS x) SELECT x FROM a;')).rows).toEqual([[2]])
    expect((await wh.query('FROM range(3)')).rows).toHaveLength(3)
  })

  it('cannot read files outside the warehouse nor change settings', async () => {
    const err = await refused("SELECT * FROM read_csv('/etc/passwd')")
    expect(err.code).toBe('sql_error')
    expect(err.message).toMatch(/Permission Error/)
  })

  it('returns DuckDB errors as they are', async () => {
    const err = await refused('SELECT nope FROM events')
    expect(err.code).toBe('sql_error')
    expect(err.message).toMatch(/Referenced column "nope" not found/)
    expect((await refused('SELEC 1')).code).toBe('read_only')
    expect((await refused('SELECT * FROM')).message).toMatch(/Parser Error/)
  })

  it('interrupts a query after timeoutMs', async () => {
    const t0 = Date.now()
    const err = await wh.query('SELECT count(*) FROM range(100000000000) a', { timeoutMs: 200 }).then(
      () => null,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(QueryError)
    expect((err as QueryError).code).toBe('timeout')
    expect((err as QueryError).message).toBe('query took longer than 200 ms')
    expect(Date.now() - t0).toBeLessThan(5000)
    expect((await wh.query('SELECT 1 AS one')).rows).toEqual([[1]])
  })

  it('caps rows and says so', async () => {
    const r = await wh.query('SELECT * FROM range(25000)')
    expect(r.rows).toHaveLength(10_000)
    expect(r.truncated).toBe(true)
    const s = await wh.query('SELECT * FROM range(5)', { maxRows: 5 })
    expect(s.truncated).toBe(false)
    expect((await wh.query('SELECT * FROM range(6)', { maxRows: 5 })).truncated).toBe(true)
  })
})

describe('values', () => {
  it('converts DuckDB values to JSON-safe values', async () => {
    const r = await wh.query(`SELECT 42::BIGINT AS a, 9007199254740993::BIGINT AS b, 1.25::DECIMAL(10,2) AS c,
      TIMESTAMP '2026-01-01 10:00:00.123' AS d, DATE '2026-01-02' AS e, [1, 2] AS f, {'x': 1::HUGEINT} AS g, NULL AS h, 'x' AS i, true AS j`)
    expect(r.rows[0]).toEqual([42, '9007199254740993', 1.25, '2026-01-01T10:00:00.123Z', '2026-01-02', [1, 2], { x: 1 }, null, 'x', true])
    expect(r.columns.map((c) => c.type)).toEqual(['BIGINT', 'BIGINT', 'DECIMAL(10,2)', 'TIMESTAMP', 'DATE', 'INTEGER[]', 'STRUCT("x" HUGEINT)', 'INTEGER', 'VARCHAR', 'BOOLEAN'])
    expect(typeof r.ms).toBe('number')
    expect(() => JSON.stringify(r)).not.toThrow()
  })
})
