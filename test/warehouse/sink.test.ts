import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { partitionFor, partitionKey, validateEvent, type TrackedEvent } from '../../src/events/index.ts'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { dtOf, parsePartFileName, partFileName } from '../../src/warehouse/layout.ts'
import { compactDay, dropOldPartitions, listPartFiles, runSinkOnce, startWarehouseSink } from '../../src/warehouse/sink/index.ts'
import { appendAll, fingerprint, query, workload } from './sink-helpers.ts'
import { until } from '../support/until.ts'
import { BIG_BURST_ROWS } from '../../src/warehouse/sink/run.ts'

const tmp = mkdtempSync(join(tmpdir(), 'tagstream-sink-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
let n = 0
const fresh = () => join(tmp, `case-${n++}`)

function filesUnder(root: string): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (dir: string) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, d.name)
      if (d.isDirectory()) walk(p)
      else out.set(relative(root, p), readFileSync(p).toString('base64'))
    }
  }
  walk(root)
  return out
}

/** Hive partitioning reads dt=YYYY-MM-DD as a DATE. */
const dtString = (v: unknown): string => (v as Date).toISOString().slice(0, 10)

describe('layout', () => {
  it('names part files by partition and zero-padded offset range', () => {
    expect(partFileName(3, 100, 199)).toBe('part-0003-000000000100-000000000199.parquet')
    expect(parsePartFileName('part-0003-000000000100-000000000199.parquet')).toEqual({ partition: 3, first: 100, last: 199 })
    expect(parsePartFileName('part-0003-000000000100-000000000199.parquet.tmp')).toBeNull()
    expect(dtOf(Date.UTC(2026, 10, 1, 23, 59, 59, 999))).toBe('2026-11-01')
    expect(dtOf(Date.UTC(2026, 10, 2))).toBe('2026-11-02')
  })
})

describe('warehouse sink', () => {
  it('writes every event once, in the layout, with the right columns and values', async () => {
    const dir = fresh()
    const { log, partitions } = await openEventLog(join(dir, 'log'), { partitions: 4 })
    const events = workload(3_000)
    await appendAll(log, events, partitions)
    const root = join(dir, 'wh')
    const res = await runSinkOnce(log, root, { flushRows: 400 })
    expect(res.rowsWritten).toBe(events.length)
    for (let p = 0; p < partitions; p++) expect(await log.committed('warehouse', TOPICS.events, p)).toBe((await log.offsets(TOPICS.events, p)).end)
    await log.close()

    // Every file sits in its day and event directory and holds only its partition and range.
    const { parts } = await listPartFiles(root)
    const rows = await query(
      root,
      (_from) => `SELECT *, filename FROM read_parquet('${root}/events/**/*.parquet', hive_partitioning = true, union_by_name = true, filename = true) ORDER BY "partition", "offset"`,
    )
    expect(rows.length).toBe(events.length)
    const byId = new Map(events.map((e) => [e.event_id, e]))
    const seen = new Set<string>()
    for (const r of rows) {
      const e = byId.get(String(r.event_id))!
      expect(e).toBeDefined()
      expect(seen.has(e.event_id)).toBe(false)
      seen.add(e.event_id)
      expect(r.event).toBe(e.event)
      expect(r.user_id).toBe(e.user_id)
      expect(r.anonymous_id ?? undefined).toBe(e.anonymous_id)
      expect((r.ts as Date).getTime()).toBe(e.ts)
      expect((r.received_at as Date).getTime()).toBe(e.received_at)
      expect(r.tenant).toBe(e.tenant)
      expect(JSON.parse(String(r.properties))).toEqual(e.properties)
      expect(r.partition).toBe(partitionFor(partitionKey(e.tenant, e.user_id), partitions))
      expect(dtString(r.dt)).toBe(dtOf(e.ts))
      const file = parts.find((f) => f.path === r.filename)!
      expect(file.dt).toBe(dtString(r.dt))
      expect(file.event).toBe(e.event)
      expect(file.partition).toBe(r.partition)
      expect(Number(r.offset)).toBeGreaterThanOrEqual(file.first)
      expect(Number(r.offset)).toBeLessThanOrEqual(file.last)
      if (e.event === 'in_app_purchase') {
        const m = e.properties.meta as { store: string; price: number; promo: boolean }
        expect([r.amount, r.item, r.meta_store, r.meta_price, r.meta_promo]).toEqual([e.properties.amount, 'sword', m.store, m.price, m.promo])
      }
      if (e.event === 'spin') expect([r.bet, r.win]).toEqual([e.properties.bet, e.properties.win])
      if (e.event === 'login') expect(r.first).toBe(e.properties.first)
    }
    // Two days, and a file's offsets never overlap another's of the same partition, day and event.
    expect(new Set(rows.map((r) => dtString(r.dt))).size).toBe(2)
    const types = await query(root, () => `DESCRIBE SELECT * FROM read_parquet('${parts.find((f) => f.event === 'in_app_purchase')!.path}', hive_partitioning = false)`)
    expect(types.map((t) => `${String(t.column_name)} ${String(t.column_type)}`)).toEqual([
      'event VARCHAR',
      'user_id VARCHAR',
      'anonymous_id VARCHAR',
      'ts TIMESTAMP WITH TIME ZONE',
      'event_id VARCHAR',
      'tenant VARCHAR',
      'received_at TIMESTAMP WITH TIME ZONE',
      'partition INTEGER',
      'offset BIGINT',
      'properties VARCHAR',
      'amount DOUBLE',
      'item VARCHAR',
      'meta_store VARCHAR',
      'meta_price DOUBLE',
      'meta_promo BOOLEAN',
    ])
  })

  it("keeps a column's type when rows of a file disagree: the values that do not fit go to _rescued, counted", async () => {
    const dir = fresh()
    const { log, partitions } = await openEventLog(join(dir, 'log'), { partitions: 1 })
    const raws = [
      { event: 'buy', user_id: 'u', ts: Date.UTC(2026, 10, 1), level: 3, note: 'a', offset: 9, nested: { deep: { x: true } } },
      { event: 'buy', user_id: 'u', ts: Date.UTC(2026, 10, 1, 1), level: '4', note: 'b', list: [1, 2] },
      { event: 'buy', user_id: 'u', ts: Date.UTC(2026, 10, 1, 2), level: false, note: null },
    ]
    const events: TrackedEvent[] = raws.map((r, i) => {
      const v = validateEvent({ ...r, event_id: `x${i}` }, { receivedAt: r.ts })
      if (!v.ok) throw new Error(v.error.reason)
      return v.event
    })
    await appendEvents(log, events, partitions)
    const root = join(dir, 'wh')
    const res = await runSinkOnce(log, root)
    await log.close()
    expect(res.typeConflicts).toBe(1)
    const rows = await query(root, (from) => `SELECT level, _rescued, note, p_offset, nested_deep_x, properties FROM ${from} ORDER BY "offset"`)
    // One value of each type: the first value's type, DOUBLE, is the column's.
    expect(rows.map((r) => r.level)).toEqual([3, null, null])
    expect(rows.map((r) => r._rescued)).toEqual([null, '{"level":"4"}', '{"level":false}'])
    expect(rows.map((r) => r.note)).toEqual(['a', 'b', null])
    expect(rows.map((r) => r.p_offset)).toEqual([9, null, null])
    expect(rows.map((r) => r.nested_deep_x)).toEqual([true, null, null])
    expect(JSON.parse(String(rows[1]!.properties))).toEqual({ level: '4', note: 'b', list: [1, 2] })
  })

  it('is idempotent: the same log range gives the same files, byte for byte, and a rerun adds nothing', async () => {
    const dir = fresh()
    const { log, partitions } = await openEventLog(join(dir, 'log'), { partitions: 3 })
    await appendAll(log, workload(2_000, 11), partitions)
    await log.close()
    cpSync(join(dir, 'log'), join(dir, 'log2'), { recursive: true })
    const a = await openEventLog(join(dir, 'log'))
    const b = await openEventLog(join(dir, 'log2'))
    await runSinkOnce(a.log, join(dir, 'wh1'), { flushRows: 300 })
    await runSinkOnce(b.log, join(dir, 'wh2'), { flushRows: 300 })
    const again = await runSinkOnce(a.log, join(dir, 'wh1'), { flushRows: 300 })
    expect(again.rowsWritten).toBe(0)
    expect(filesUnder(join(dir, 'wh1'))).toEqual(filesUnder(join(dir, 'wh2')))

    // A flush that wrote its files but never committed: move the committed offsets back.
    const before = await fingerprint(join(dir, 'wh1'))
    for (let p = 0; p < partitions; p++) await a.log.commit('warehouse', TOPICS.events, p, 150 * p)
    const replay = await runSinkOnce(a.log, join(dir, 'wh1'), { flushRows: 1_000 })
    expect(replay.recoveredFiles).toBeGreaterThan(0)
    expect(await fingerprint(join(dir, 'wh1'))).toEqual(before)
    expect(before.duplicates).toBe(0)
    expect(before.rows).toBe(2_000)
    await a.log.close()
    await b.log.close()
  })

  it('runs in the background, flushing on time and on size, and stops cleanly', async () => {
    const dir = fresh()
    const { log, partitions } = await openEventLog(join(dir, 'log'), { partitions: 2 })
    const root = join(dir, 'wh')
    const sink = await startWarehouseSink(log, root, { flushIntervalMs: 50, flushRows: 250, pollWaitMs: 10 })
    const events = workload(1_500, 3)
    await appendAll(log, events.slice(0, 700), partitions)
    // The timer flushes without being asked.
    for (let t = Date.now(); sink.stats().rowsWritten < 700 && Date.now() - t < 10_000;) await new Promise((r) => setTimeout(r, 20))
    expect(sink.stats().rowsWritten).toBe(700)
    expect(sink.stats().flushes).toBeGreaterThanOrEqual(2)
    await appendAll(log, events.slice(700), partitions)
    await sink.flushNow()
    await sink.stop()
    expect(sink.stats().lastError).toBeNull()
    await log.close()
    const f = await fingerprint(root)
    expect(f).toMatchObject({ rows: 1_500, duplicates: 0 })
  })
})

describe('flushing when traffic stops', () => {
  it('flushes a burst once the log has been quiet for quietFlushMs, long before the interval; steady traffic waits for the interval', async () => {
    const dir = fresh()
    const { log, partitions } = await openEventLog(join(dir, 'log'), { partitions: 2 })
    const root = join(dir, 'wh')
    // An interval far beyond the test: any flush here is the quiet one.
    const sink = await startWarehouseSink(log, root, { flushIntervalMs: 600_000, quietFlushMs: 1_000, pollWaitMs: 10, maintenanceIntervalMs: 3_600_000 })
    try {
      const events = workload(600, 9)
      // Steady traffic: something new every 50 ms for a second, so the log is never quiet for a second.
      for (let i = 0; i < 20; i++) {
        await appendAll(log, events.slice(i * 10, i * 10 + 10), partitions)
        expect(sink.stats().rowsWritten, `steady, step ${i}`).toBe(0)
        await new Promise((r) => setTimeout(r, 50))
      }
      await appendAll(log, events.slice(200), partitions)
      await until('the quiet flush', () => sink.stats().rowsWritten === 600, 10_000)
      expect(sink.stats().flushes).toBeGreaterThanOrEqual(1)
    } finally {
      await sink.stop()
      await log.close()
    }
    expect(await fingerprint(root)).toMatchObject({ rows: 600, duplicates: 0 })
  })
  it('flushes a burst of BIG_BURST_ROWS or more after BIG_BURST_QUIET_MS of quiet; a smaller one still waits quietFlushMs', { timeout: 60_000 }, async () => {
    const dir = fresh()
    const { log, partitions } = await openEventLog(join(dir, 'log'), { partitions: 2 })
    const root = join(dir, 'wh')
    // quietFlushMs far beyond the test: a flush here is the big burst's.
    const sink = await startWarehouseSink(log, root, { flushIntervalMs: 600_000, quietFlushMs: 600_000, pollWaitMs: 10, maintenanceIntervalMs: 3_600_000 })
    try {
      const events = workload(BIG_BURST_ROWS + 100, 11)
      await appendAll(log, events.slice(0, 100), partitions)
      await new Promise((r) => setTimeout(r, 1_500))
      expect(sink.stats().rowsWritten, 'a small burst waits for quietFlushMs').toBe(0)
      await appendAll(log, events.slice(100), partitions)
      await until('the big burst flush', () => sink.stats().rowsWritten === events.length, 20_000)
    } finally {
      await sink.stop()
      await log.close()
    }
  })
})

describe('compaction and retention', () => {
  it('merges a day into one file per event and partition, keeping every row once', async () => {
    const dir = fresh()
    const { log, partitions } = await openEventLog(join(dir, 'log'), { partitions: 2 })
    await appendAll(log, workload(2_000, 5), partitions)
    const root = join(dir, 'wh')
    await runSinkOnce(log, root, { flushRows: 100 })
    await log.close()
    const before = await fingerprint(root)
    const day = '2026-11-01'
    const filesBefore = (await listPartFiles(root)).parts.filter((f) => f.dt === day)
    expect(filesBefore.length).toBeGreaterThan(10)
    const res = await compactDay(root, day)
    expect(res.filesWritten).toBe(3 * partitions)
    const after = (await listPartFiles(root)).parts.filter((f) => f.dt === day)
    expect(after.length).toBe(3 * partitions)
    for (const f of after) {
      const mine = filesBefore.filter((g) => g.event === f.event && g.partition === f.partition)
      expect(f.first).toBe(Math.min(...mine.map((g) => g.first)))
      expect(f.last).toBe(Math.max(...mine.map((g) => g.last)))
    }
    expect(await fingerprint(root)).toEqual(before)
    // A merge interrupted after its rename: the inputs are still there, inside the merged range.
    const spare = join(dir, 'spare.parquet')
    const victim = after[0]!
    cpSync(victim.path, spare)
    const inner = join(victim.dir, partFileName(victim.partition, victim.first, victim.first))
    cpSync(spare, inner)
    const repaired = await compactDay(root, day)
    expect(repaired.filesRemoved).toBe(1)
    expect(await fingerprint(root)).toEqual(before)
  })

  it('drops day directories older than the retention', async () => {
    const dir = fresh()
    const { log, partitions } = await openEventLog(join(dir, 'log'), { partitions: 1 })
    await appendAll(log, workload(500, 9), partitions)
    const root = join(dir, 'wh')
    await runSinkOnce(log, root)
    await log.close()
    // BigQuery's partition expiry: day D goes at D 00:00 UTC + 3 days (src/warehouse/retention.ts).
    expect(await dropOldPartitions(root, 3, Date.UTC(2026, 10, 3, 12))).toEqual([])
    expect(await dropOldPartitions(root, 3, Date.UTC(2026, 10, 4, 12))).toEqual(['2026-11-01'])
    const left = await query(root, (from) => `SELECT DISTINCT dt FROM ${from}`)
    expect(left.map((r) => dtString(r.dt))).toEqual(['2026-11-02'])
  })
})
