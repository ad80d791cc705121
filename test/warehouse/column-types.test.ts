import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { encodeEvent, validateEvent } from '../../src/events/index.ts'
import { TOPICS, type EventLog } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { openWarehouse } from '../../src/warehouse/query/index.ts'
import { REPORTS, runReport } from '../../src/warehouse/reports/index.ts'
import { runSinkOnce } from '../../src/warehouse/sink/index.ts'
import { smallWarehouse, writeEvents } from './fixtures.ts'
import { query } from './sink-helpers.ts'

/*
 * Columns keep their types across files, flushes, restarts and tenants (docs/warehouse-sink.md,
 * "Columns and typing"), and the views read files that an older sink typed otherwise without
 * failing (docs/warehouse.md).
 */

const tmp = mkdtempSync(join(tmpdir(), 'tagstream-column-types-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
let n = 0
const fresh = () => join(tmp, `case-${n++}`)
const T0 = Date.UTC(2026, 10, 7, 8)
let ids = 0

async function purchases(log: EventLog, tenant: string, costs: unknown[]): Promise<void> {
  const values = costs.map((cost, i) => {
    const v = validateEvent({ event: 'purchase', user_id: `u${i}`, ts: T0 + ids, event_id: `p${ids++}`, kind: 'sword', cost }, { receivedAt: T0, tenant })
    if (!v.ok) throw new Error(v.error.reason)
    return { key: `${tenant}:u`, value: Buffer.from(encodeEvent(v.event)) }
  })
  await log.append(TOPICS.events, 0, values)
}

async function costTypes(root: string): Promise<unknown[]> {
  const rows = await query(root, () => `SELECT DISTINCT duckdb_type AS t FROM parquet_schema('${root}/events/*/event=purchase/*.parquet') WHERE name = 'cost'`)
  return rows.map((r) => r.t)
}

describe('established column types', () => {
  it('hold across flushes, sink restarts and tenants: a later value of another type is rescued', async () => {
    const dir = fresh()
    const { log } = await openEventLog(join(dir, 'log'), { partitions: 1 })
    const root = join(dir, 'wh')
    await purchases(log, 'default', [5, 6, 7])
    await runSinkOnce(log, root)
    expect(JSON.parse(readFileSync(join(root, 'events', '_column_types.json'), 'utf8')).events.purchase).toMatchObject({ cost: 'DOUBLE', kind: 'VARCHAR' })
    // A later flush (a new sink, as after a restart) whose file holds only strings for cost: still DOUBLE.
    await purchases(log, 'acme', ['abc', 'def'])
    const res = await runSinkOnce(log, root)
    await log.close()
    expect(res.typeConflicts).toBe(1)
    expect(await costTypes(root)).toEqual(['DOUBLE'])
    const rows = await query(root, (from) => `SELECT tenant, cost, _rescued FROM ${from} ORDER BY "offset"`)
    expect(rows.map((r) => [r.tenant, r.cost, r._rescued ?? null])).toEqual([
      ['default', 5, null],
      ['default', 6, null],
      ['default', 7, null],
      ['acme', null, '{"cost":"abc"}'],
      ['acme', null, '{"cost":"def"}'],
    ])
  })

  it("are settled by most of the first file's values, not by the first value alone", async () => {
    const dir = fresh()
    const { log } = await openEventLog(join(dir, 'log'), { partitions: 1 })
    const root = join(dir, 'wh')
    await purchases(log, 'acme', ['abc'])
    await purchases(log, 'default', [1, 2, 3])
    await runSinkOnce(log, root)
    await log.close()
    expect(await costTypes(root)).toEqual(['DOUBLE'])
  })

  it('are read from the files of a warehouse written before the types were kept', async () => {
    const dir = fresh()
    const root = await smallWarehouse(join(dir, 'wh'))
    // The old sink's conflict file: cost VARCHAR (JSON text), from another tenant and partition.
    await writeEvents(
      root,
      [{ event: 'purchase', user_id: 'x', ts: '2026-01-01T12:00:00Z', tenant: 'acme', properties: { kind: 'sword', type: 'cutlass', cost: 'abc', status: 'approved_purchase' } }],
      { partition: 1 },
    )
    // A sink that owns another partition: the fixture's files are not its to recover.
    const { log } = await openEventLog(join(dir, 'log'), { partitions: 8 })
    await runSinkOnce(log, root, { partitions: [7] })
    await log.close()
    const types = JSON.parse(readFileSync(join(root, 'events', '_column_types.json'), 'utf8')) as { events: Record<string, Record<string, string>> }
    expect(types.events.purchase).toMatchObject({ cost: 'DOUBLE', kind: 'VARCHAR', player_wealth: 'DOUBLE' })
  })
})

describe('views over files typed differently', () => {
  it("answer every report and view, with the other tenant's numbers unchanged", async () => {
    const clean = await smallWarehouse(join(fresh(), 'wh'))
    const dirty = await smallWarehouse(join(fresh(), 'wh'))
    // What the sink wrote before columns kept their types: a file where cost and player_wealth are VARCHAR.
    await writeEvents(
      dirty,
      [
        {
          event: 'purchase',
          user_id: 'x',
          ts: '2026-01-01T12:00:00Z',
          tenant: 'acme',
          properties: { kind: 'sword', type: 'cutlass', cost: 'abc', status: 'approved_purchase', player_wealth: 'lots', player_num_items: '"3"' },
        },
        { event: 'join_guild', user_id: 'x', ts: '2026-01-02T12:00:00Z', tenant: 'acme', properties: { org: 'soldiers', cost: '"0"', player_wealth: 'none', player_num_affiliations: 'x' } },
      ],
      { partition: 1 },
    )
    expect(existsSync(join(dirty, 'events', '_column_types.json'))).toBe(false)
    const a = await openWarehouse(clean)
    const b = await openWarehouse(dirty)
    try {
      for (const report of REPORTS) {
        const want = await runReport(a, report.name, { tenant: 'default' })
        const got = await runReport(b, report.name, { tenant: 'default' })
        expect(got.rows, report.name).toEqual(want.rows)
        await runReport(b, report.name, { tenant: 'acme' })
        await runReport(b, report.name, {})
      }
      for (const view of ['events', 'buys', 'social', 'profiles', 'segment_changes', 'notifications']) await b.query(`SELECT * FROM ${view}`)
      const bad = await b.query(`SELECT cost, player_wealth, player_num_items FROM buys WHERE tenant = 'acme'`)
      expect(bad.rows).toEqual([[null, null, null]])
      const cols = await b.query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM events) WHERE column_name IN ('cost', 'player_wealth', '_rescued') ORDER BY 1`)
      expect(cols.rows).toEqual([
        ['_rescued', 'VARCHAR'],
        ['cost', 'DOUBLE'],
        ['player_wealth', 'DOUBLE'],
      ])
    } finally {
      a.close()
      b.close()
    }
  })
})
