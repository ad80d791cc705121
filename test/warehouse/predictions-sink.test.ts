/**
 * The warehouse sink files prediction events (src/events/prediction.ts) like any event: appended
 * encoded to the log beside ordinary events, they land in `event=$prediction` directories with
 * their scores as typed columns, and compaction, retention and erasure treat those files as they
 * treat every other event's.
 */
import { DuckDBInstance } from '@duckdb/node-api'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { PREDICTION_EVENT } from '../../src/events/prediction.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { PersonWarehouse } from '../../src/warehouse/query/person-rows.ts'
import { compactDay, dropOldPartitions, eraseRows, ParquetWriter, runSinkOnce } from '../../src/warehouse/sink/index.ts'
import { predictionEvent, scoresFor } from './prediction-events.ts'
import { appendAll, logAndWarehouse, workload } from './sink-helpers.ts'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

const DAY = '2026-11-02'
const SCORED_AT = Date.UTC(2026, 10, 2, 3)
const USERS = 40

/** The `$prediction` part files of the day, as paths. */
function predictionFiles(root: string): string[] {
  const dir = join(root, 'events', `dt=${DAY}`, `event=${PREDICTION_EVENT}`)
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((n) => n.endsWith('.parquet'))
    .map((n) => join(dir, n))
}

async function read(files: readonly string[], sql: (from: string) => string): Promise<Array<Record<string, unknown>>> {
  const db = await DuckDBInstance.create(':memory:')
  const c = await db.connect()
  try {
    const from = `read_parquet([${files.map((f) => `'${f}'`).join(', ')}], union_by_name = true)`
    return (await c.runAndReadAll(sql(from))).getRowObjectsJS() as Array<Record<string, unknown>>
  } finally {
    c.closeSync()
    db.closeSync()
  }
}

describe('prediction events in the warehouse sink', () => {
  it('files them under event=$prediction with typed score columns, and compacts, erases and expires them', async () => {
    const { log, partitions, root } = await logAndWarehouse('tagstream-pred-sink-', dirs)
    const events = workload(2000)
    const predictions = Array.from({ length: USERS }, (_, i) => predictionEvent(String(i + 1), SCORED_AT, scoresFor(i + 1)))
    predictions.push(predictionEvent('1', SCORED_AT, scoresFor(99), { tenant: 'acme', model: 'm-acme' }))
    // Interleaved with ordinary events, in small flushes: several files per partition.
    await appendAll(log, events.slice(0, 1000), partitions)
    await appendAll(log, predictions, partitions)
    await appendAll(log, events.slice(1000), partitions)
    const res = await runSinkOnce(log, root, { flushRows: 300 })
    expect(res.poisonRecords).toBe(0)
    expect(res.rowsWritten).toBe(events.length + predictions.length)
    for (let p = 0; p < partitions; p++) expect(await log.read(TOPICS.deadLetters, p, 0)).toEqual([])

    const files = predictionFiles(root)
    expect(files.length).toBeGreaterThan(0)
    const types = await read(files, (from) => `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ${from})`)
    const typeOf = Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))
    expect(typeOf).toMatchObject({ purchase_7d: 'DOUBLE', churn_7d: 'DOUBLE', wealth_30d: 'DOUBLE', model_version: 'VARCHAR', event: 'VARCHAR' })
    expect(typeOf).not.toHaveProperty('_rescued')
    const stored = JSON.parse(readFileSync(join(root, 'events', '_column_types.json'), 'utf8')) as { events: Record<string, unknown> }
    expect(stored.events[PREDICTION_EVENT]).toEqual({ churn_7d: 'DOUBLE', model_version: 'VARCHAR', purchase_7d: 'DOUBLE', wealth_30d: 'DOUBLE' })

    const rowsSql = (from: string) => `SELECT tenant, user_id, event, epoch_ms(ts) AS ts, purchase_7d, churn_7d, wealth_30d, model_version FROM ${from} ORDER BY tenant, user_id::INTEGER`
    const expected = predictions
      .map((p) => ({ tenant: p.tenant, user_id: p.user_id, event: PREDICTION_EVENT, ts: SCORED_AT, ...p.properties }))
      .sort((a, b) => (a.tenant < b.tenant ? -1 : a.tenant > b.tenant ? 1 : Number(a.user_id) - Number(b.user_id)))
    const rows = await read(files, rowsSql)
    expect(rows.map((r) => ({ ...r, ts: Number(r.ts) }))).toEqual(expected)

    // Compaction: one file per partition holding the same rows.
    await compactDay(root, DAY)
    const merged = predictionFiles(root)
    expect(merged.length).toBeLessThanOrEqual(partitions)
    expect((await read(merged, rowsSql)).map((r) => ({ ...r, ts: Number(r.ts) }))).toEqual(expected)

    // A person's export (docs/privacy.md) holds their predictions as events.
    const exported = async () => {
      const pw = await PersonWarehouse.open(root)
      try {
        const out: string[] = []
        for await (const row of pw.events({ tenant: 'default', ids: ['1'] }, new Map())) out.push(String(row.event))
        return out
      } finally {
        await pw.close()
      }
    }
    const before = await exported()
    expect(before.filter((e) => e === PREDICTION_EVENT)).toHaveLength(1)
    expect(before.length).toBe(1 + events.filter((e) => e.user_id === '1').length)

    // Erasure: the person's prediction rows go, another tenant's row of the same id stays.
    const ends: Record<string, number> = {}
    for (let p = 0; p < partitions; p++) ends[String(p)] = (await log.offsets(TOPICS.events, p)).end
    const writer = await ParquetWriter.open()
    try {
      const done = await eraseRows(writer, root, { tenant: 'default', ids: ['1'], events: ends, streams: {} })
      expect(done.rowsRemoved).toBe(1 + events.filter((e) => e.user_id === '1').length)
    } finally {
      writer.close()
    }
    const left = await read(predictionFiles(root), (from) => `SELECT tenant FROM ${from} WHERE user_id = '1'`)
    expect(left).toEqual([{ tenant: 'acme' }])
    expect(await exported()).toEqual([])
    expect(await read(predictionFiles(root), (from) => `SELECT count(*)::INTEGER AS n FROM ${from}`)).toEqual([{ n: predictions.length - 1 }])

    // Retention: the day expires with its prediction files.
    expect(await dropOldPartitions(root, 1, Date.UTC(2026, 10, 3, 1))).toEqual(['2026-11-01', DAY])
    expect(predictionFiles(root)).toEqual([])
    await log.close()
  })
})
