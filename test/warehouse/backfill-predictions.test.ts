import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { engineOptions } from '../../src/engine/engine-options.ts'
import { parseExpression } from '../../src/rules/index.ts'
import { ruleToSql } from '../../src/warehouse/backfill/rule-sql.ts'

/**
 * Backfill SQL and prediction rows (docs/predictions.md): predicted.* traits come from the user's
 * latest `$prediction` row (greatest ts, then offset), a score missing there reads null, and the
 * rows count for no activity trait. Over a small `events` table with the warehouse view's columns.
 */
const T0 = Date.UTC(2026, 10, 20, 12)
const H = 3_600_000

type Row = { event: string; user: string; ts: number; offset: number; props: Record<string, unknown> }
const pred = (user: string, ts: number, offset: number, props: Record<string, unknown>): Row => ({ event: '$prediction', user, ts, offset, props })
const ROWS: Row[] = [
  { event: 'purchase', user: 'a', ts: T0 - 10 * H, offset: 1, props: { amount: 60, country: 'TR' } },
  { event: 'spin', user: 'b', ts: T0 - 10 * H, offset: 2, props: {} },
  { event: 'spin', user: 'c', ts: T0 - 10 * H, offset: 3, props: {} },
  // a: the later run (by ts, not by offset) has churn 0.9; the model was not published in the latest for purchase_7d.
  pred('a', T0 - 2 * H, 10, { churn_7d: 0.9, purchase_7d: null, model_version: 'm2', country: 'DE' }),
  pred('a', T0 - 30 * H, 11, { churn_7d: 0.1, purchase_7d: 0.5, model_version: 'm1' }),
  // b: two rows at one ts, the later offset wins.
  pred('b', T0 - 1 * H, 12, { churn_7d: 0.95, model_version: 'm2' }),
  pred('b', T0 - 1 * H, 13, { churn_7d: 0.2, model_version: 'm2' }),
  // c: scored after T, not seen as of T.
  pred('c', T0 + H, 14, { churn_7d: 0.99 }),
  // d: only a prediction, no activity: no user.
  pred('d', T0 - H, 15, { churn_7d: 0.99 }),
]

describe('backfill SQL: predicted traits and prediction rows', () => {
  let db: DuckDBInstance
  let conn: DuckDBConnection

  beforeAll(async () => {
    db = await DuckDBInstance.create(':memory:')
    conn = await db.connect()
    await conn.run(`CREATE TABLE events (event VARCHAR, user_id VARCHAR, tenant VARCHAR, ts TIMESTAMPTZ, "offset" BIGINT, properties VARCHAR)`)
    for (const r of ROWS) {
      const props = JSON.stringify(r.props).replaceAll("'", "''")
      await conn.run(`INSERT INTO events VALUES ('${r.event}', '${r.user}', 'default', make_timestamptz(${r.ts * 1000}), ${r.offset}, '${props}')`)
    }
  })
  afterAll(() => {
    conn?.closeSync()
    db?.closeSync()
  })

  async function members(when: string): Promise<string[]> {
    const sql = ruleToSql(parseExpression(when), T0, engineOptions())
    const rows = (await conn.runAndReadAll(sql)).getRowsJS()
    return rows.map((r) => String(r[1])).sort()
  }

  it.each([
    ['predicted.churn_7d > 0.7', ['a']],
    ['predicted.churn_7d < 0.5', ['b']],
    ['predicted.churn_7d > 0.7 and total_purchases > 50', ['a']],
    ['predicted.model_version = "m2"', ['a', 'b']],
    // The latest run did not publish purchase_7d: null, not the older 0.5.
    ['predicted.purchase_7d >= 0 or predicted.purchase_7d < 0', []],
    [`predicted.scored_at = ${T0 - 2 * H}`, ['a']],
    ['since(predicted.scored_at) < 90m', ['b']],
    ['not predicted.churn_7d > 0', ['c']],
  ])('%s', async (when, expected) => {
    expect(await members(when)).toEqual(expected)
  })

  it('prediction rows are not activity: last_seen, event_count, is_new, profile properties', async () => {
    expect(await members(`last_seen = ${T0 - 10 * H}`)).toEqual(['a', 'b', 'c'])
    expect(await members('event_count = 1')).toEqual(['a', 'b', 'c'])
    expect(await members('country = "TR"')).toEqual(['a'])
    expect(await members(`since(first_seen) = ${10 * H}`)).toEqual(['a', 'b', 'c'])
  })
})
