import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type FileMetaData, type SchemaElement } from 'hyparquet'
import { afterAll, describe, expect, it } from 'vitest'
import { encodeEvent, partitionFor, partitionKey, validateEvent, type JsonValue, type TrackedEvent } from '../../src/events/index.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { batchOfRecords } from '../../src/log/read-batch.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { BASE_COLUMNS, PROPERTY_PREFIX, RESERVED_COLUMN_NAMES, eventDir, partFileName } from '../../src/warehouse/layout.ts'
import { listPartFilesUnder, writePieces } from '../../src/warehouse/sink/files.ts'
import { EventRows, compactDay, listPartFiles, runSinkOnce, type PartFile } from '../../src/warehouse/sink/index.ts'
import { writeEvents } from './fixtures.ts'
import { appendAll } from './sink-helpers.ts'

/*
 * The warehouse read by an engine that is not DuckDB: hyparquet, a Parquet reader written
 * independently in JavaScript. A real sink writes several days, a compaction merges one of them,
 * and later flushes add fresh files beside the merged one; a property then arrives with a value
 * of another type than its column's (kept in `_rescued`). Every file, fresh (written by the sink's
 * own encoder) and compacted (written by DuckDB), must declare the standard `created_by`, compressed
 * pages, UTC-adjusted timestamps and one type per column per event, and hold exactly the events
 * that were sent.
 */

const tmp = mkdtempSync(join(tmpdir(), 'tagstream-other-reader-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const DAY = 86_400_000
const T0 = Date.UTC(2026, 10, 1)
const DAYS = ['2026-11-01', '2026-11-02', '2026-11-03']

/** Events over three days, three event names, two tenants; `conflicts` adds values that do not fit their column. */
function events(n: number, from: number, conflicts: boolean): TrackedEvent[] {
  const out: TrackedEvent[] = []
  for (let i = from; i < from + n; i++) {
    const ts = T0 + (i % 3) * DAY + i * 1_000 + (i % 7)
    const user = `u${i % 37}`
    const kind = i % 10
    const raw: Record<string, unknown> =
      kind < 6
        ? // `level` is text here and a number in `login`: each event keeps its own type.
          { event: 'spin', user_id: user, bet: 1 + (i % 5), win: i % 3 === 0, level: `L${i % 4}` }
        : kind < 8
          ? { event: 'purchase', user_id: user, amount: [0.99, 4.99, 9.99][i % 3], item: i % 2 === 0 ? 'coins' : 'gems', meta: { store: 'apple', price: 1.5 } }
          : { event: 'login', anonymous_id: `anon-${i}`, first: i % 4 === 0, level: i % 9, tags: ['a', 'b'], offset: i }
    if (conflicts && raw.event === 'purchase') {
      // The column types were established by the first flushes (DOUBLE, VARCHAR): these do not fit.
      if (i % 3 === 0) raw.amount = 'free'
      if (i % 4 === 0) raw.item = 42
    }
    const v = validateEvent({ ...raw, ts, event_id: `ev-${i}` }, { receivedAt: ts + 250, tenant: i % 5 === 0 ? 'acme' : 'default' })
    if (!v.ok) throw new Error(v.error.reason)
    out.push(v.event)
  }
  return out
}

/** Parquet files whose range no other file of the same directory and partition contains (a merge's inputs may stay a while). */
function liveFiles(parts: readonly PartFile[]): PartFile[] {
  return parts.filter((f) => !parts.some((g) => g !== f && g.dir === f.dir && g.partition === f.partition && g.first <= f.first && f.last <= g.last && (g.first < f.first || g.last > f.last)))
}

/** A property's flattened scalars: the columns the sink makes of it (docs/warehouse-sink.md, "Columns and typing"). */
function scalars(props: Record<string, JsonValue>, prefix = ''): Array<[string, string | number | boolean]> {
  const out: Array<[string, string | number | boolean]> = []
  for (const [k, v] of Object.entries(props)) {
    if (v === null || Array.isArray(v)) continue
    if (typeof v === 'object') out.push(...scalars(v, `${prefix}${k}_`))
    else {
      const name = prefix + k
      out.push([RESERVED_COLUMN_NAMES.has(name.toLowerCase()) ? PROPERTY_PREFIX + name : name, v])
    }
  }
  return out
}

const typeOf = (v: string | number | boolean): string => (typeof v === 'number' ? 'DOUBLE' : typeof v === 'boolean' ? 'BOOLEAN' : 'BYTE_ARRAY')

/** A leaf column as the footer declares it. */
function declared(e: SchemaElement): string {
  return JSON.stringify([e.type, e.repetition_type, e.converted_type ?? null, e.logical_type ?? null])
}

const INSTANT = JSON.stringify(['INT64', 'OPTIONAL', 'TIMESTAMP_MICROS', { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' }])
const FIXED: Record<string, string> = {
  event: JSON.stringify(['BYTE_ARRAY', 'OPTIONAL', 'UTF8', null]),
  user_id: JSON.stringify(['BYTE_ARRAY', 'OPTIONAL', 'UTF8', null]),
  anonymous_id: JSON.stringify(['BYTE_ARRAY', 'OPTIONAL', 'UTF8', null]),
  ts: INSTANT,
  event_id: JSON.stringify(['BYTE_ARRAY', 'OPTIONAL', 'UTF8', null]),
  tenant: JSON.stringify(['BYTE_ARRAY', 'OPTIONAL', 'UTF8', null]),
  received_at: INSTANT,
  partition: JSON.stringify(['INT32', 'OPTIONAL', 'INT_32', null]),
  offset: JSON.stringify(['INT64', 'OPTIONAL', 'INT_64', null]),
  properties: JSON.stringify(['BYTE_ARRAY', 'OPTIONAL', 'UTF8', null]),
}

// PARQUET-251's form, as parquet-java's VersionParser reads it: `<application> version <version> (build <hash>)`.
const CREATED_BY = /^(\S+) version (v?\d+\.\d+\.\d+\S*) \(build (\S+)\)$/

interface FileRead {
  file: PartFile
  meta: FileMetaData
  rows: Array<Record<string, unknown>>
}

async function read(file: PartFile): Promise<FileRead> {
  const buffer = await asyncBufferFromFile(file.path)
  // Timestamps (values and statistics) as the stored microseconds, exact, not as Dates (milliseconds).
  const parsers = { timestampFromMicroseconds: (us: bigint) => us }
  const meta = await parquetMetadataAsync(buffer, { parsers })
  const rows = await parquetReadObjects({ file: buffer, metadata: meta, parsers })
  return { file, meta, rows }
}

describe('the warehouse read by another engine (hyparquet)', () => {
  it('holds, in fresh and compacted files alike, standard footers, UTC instants, one type per column per event, and exactly what was sent', async () => {
    const { log, partitions } = await openEventLog(join(tmp, 'log'), { partitions: 2 })
    const root = join(tmp, 'wh')
    const first = events(900, 0, false)
    await appendAll(log, first, partitions)
    await runSinkOnce(log, root, { flushRows: 120 })
    const merged = await compactDay(root, DAYS[0]!)
    expect(merged.filesWritten).toBeGreaterThan(0)
    // Later flushes: fresh files beside the compacted ones, and values that do not fit their column.
    const second = events(300, 900, true)
    await appendAll(log, second, partitions)
    const res = await runSinkOnce(log, root, { flushRows: 120 })
    await log.close()
    expect(res.typeConflicts).toBeGreaterThan(0)
    const sent = [...first, ...second]

    const files = await Promise.all(liveFiles((await listPartFiles(root)).parts).map(read))
    const makers = new Set<string>()
    const columnTypes = new Map<string, string>()
    const byId = new Map<string, Record<string, unknown>>()
    for (const { file, meta, rows } of files) {
      // The writer, in the form other engines parse: ours for fresh files, DuckDB's for compacted ones.
      const by = CREATED_BY.exec(meta.created_by ?? '')
      expect(by, meta.created_by).not.toBeNull()
      makers.add(by![1]!)
      if (by![1] === 'tagstream') expect(by![2]).toMatch(/^\d+\.\d+\.\d+$/)

      // Schema: the fixed columns first, as declared; every column's type the same in every file of its event.
      const leaves = meta.schema.slice(1)
      expect(leaves.slice(0, BASE_COLUMNS.length).map((e) => e.name)).toEqual(BASE_COLUMNS.map((c) => c.name))
      for (const e of leaves) {
        if (e.name in FIXED) expect(declared(e), `${file.path}: ${e.name}`).toBe(FIXED[e.name])
        const key = `${file.event}.${e.name}`
        const had = columnTypes.get(key)
        if (had !== undefined) expect(declared(e), `${file.path}: ${key}`).toBe(had)
        columnTypes.set(key, declared(e))
      }

      // Compressed pages in every file; row counts in the footer match the rows read.
      for (const g of meta.row_groups) for (const c of g.columns) expect(c.meta_data?.codec).toBe('SNAPPY')
      expect(Number(meta.num_rows)).toBe(rows.length)

      // Every row is the file's: its day, event, partition and range.
      for (const r of rows) {
        expect(r.event).toBe(file.event)
        expect(r.partition).toBe(file.partition)
        expect(Number(r.offset)).toBeGreaterThanOrEqual(file.first)
        expect(Number(r.offset)).toBeLessThanOrEqual(file.last)
        expect(new Date(Number((r.ts as bigint) / 1000n)).toISOString().slice(0, 10)).toBe(file.dt)
        expect(byId.has(String(r.event_id)), String(r.event_id)).toBe(false)
        byId.set(String(r.event_id), r)
      }
      // The time statistics that let a reader skip row groups are the rows' own.
      if (by![1] === 'tagstream') {
        const ts = rows.map((r) => r.ts as bigint)
        const stats = meta.row_groups[0]!.columns[3]!.meta_data?.statistics
        expect([stats?.min_value, stats?.max_value]).toEqual([ts.reduce((a, b) => (b < a ? b : a)), ts.reduce((a, b) => (b > a ? b : a))])
      }
    }
    expect([...makers].sort()).toEqual(['DuckDB', 'tagstream'])
    expect(new Set(files.map((f) => f.file.dt))).toEqual(new Set(DAYS))
    expect(files.some((f) => f.meta.created_by?.startsWith('DuckDB') && f.file.dt === DAYS[0])).toBe(true)
    expect(files.some((f) => f.meta.created_by?.startsWith('tagstream') && f.file.dt === DAYS[0])).toBe(true)
    // A column may differ between events, never within one.
    expect(columnTypes.get('spin.level')).toBe(JSON.stringify(['BYTE_ARRAY', 'OPTIONAL', 'UTF8', null]))
    expect(columnTypes.get('login.level')).toBe(JSON.stringify(['DOUBLE', 'OPTIONAL', null, null]))

    // Exactly what was sent: every event once, every value as sent.
    expect(byId.size).toBe(sent.length)
    const established = new Map<string, string>()
    for (const [key, d] of columnTypes) established.set(key, (JSON.parse(d) as [string])[0])
    let rescuedValues = 0
    for (const e of sent) {
      const r = byId.get(e.event_id)
      expect(r, e.event_id).toBeDefined()
      expect(r!.user_id).toBe(e.user_id)
      expect(r!.anonymous_id ?? null).toBe(e.anonymous_id ?? null)
      expect(r!.ts).toBe(BigInt(e.ts) * 1000n)
      expect(r!.received_at).toBe(BigInt(e.received_at) * 1000n)
      expect(r!.tenant).toBe(e.tenant)
      expect(r!.partition).toBe(partitionFor(partitionKey(e.tenant, e.user_id), partitions))
      expect(JSON.parse(String(r!.properties))).toEqual(e.properties)
      const rescued: Record<string, unknown> = r!._rescued == null ? {} : (JSON.parse(String(r!._rescued)) as Record<string, unknown>)
      for (const [name, v] of scalars(e.properties)) {
        if (established.get(`${e.event}.${name}`) === typeOf(v)) expect(r![name], `${e.event_id}.${name}`).toBe(v)
        else {
          // A value of another type than its column's: NULL in the column, as sent in _rescued.
          expect(r![name] ?? null, `${e.event_id}.${name}`).toBeNull()
          expect(rescued[name], `${e.event_id}._rescued.${name}`).toEqual(v)
          rescuedValues++
        }
      }
    }
    expect(rescuedValues).toBeGreaterThan(0)
    expect(second.filter((e) => e.event === 'purchase' && typeof e.properties.amount === 'string').length).toBeGreaterThan(0)
  })

  it('merges files an older sink wrote (timestamps not UTC-adjusted) with fresh ones into UTC instants, exactly', async () => {
    const root = join(tmp, 'mixed')
    const times = ['2026-11-01T00:00:00.001Z', '2026-11-01T09:30:00.250Z', '2026-11-01T23:59:59.999Z']
    // As the sink wrote event files before: DuckDB's TIMESTAMP (isAdjustedToUTC = false), offsets 0-2.
    await writeEvents(
      root,
      times.map((ts) => ({ event: 'spin', user_id: 'old', ts, properties: { bet: 1 } })),
    )
    const [old] = (await listPartFiles(root)).parts
    expect((await read(old!)).meta.schema.find((e) => e.name === 'ts')?.logical_type).toEqual({ type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' })
    // Fresh rows of the same day, event and partition, offsets 10-12, from the sink's encoder.
    const fresh = times.map((ts, i) => {
      const v = validateEvent({ event: 'spin', user_id: 'new', ts: Date.parse(ts), event_id: `new-${i}`, bet: 2 }, { receivedAt: Date.parse(ts) })
      if (!v.ok) throw new Error(v.error.reason)
      return { offset: 10 + i, key: null, value: Buffer.from(encodeEvent(v.event)), timestamp: 0 }
    })
    const [file] = new EventRows().transcode([batchOfRecords(fresh)])
    const dir = eventDir(root, '2026-11-01', 'spin')
    mkdirSync(dir, { recursive: true })
    writePieces(join(dir, partFileName(0, 10, 12)), file!.encode(0))
    file!.release()

    expect((await compactDay(root, '2026-11-01')).filesWritten).toBe(1)
    const merged = liveFiles((await listPartFiles(root)).parts)
    expect(merged.map((f) => [f.first, f.last])).toEqual([[0, 12]])
    const { meta, rows } = await read(merged[0]!)
    for (const name of ['ts', 'received_at']) expect(declared(meta.schema.find((e) => e.name === name)!)).toBe(INSTANT)
    const micros = times.map((t) => BigInt(Date.parse(t)) * 1000n)
    expect(rows.map((r) => [r.user_id, r.ts])).toEqual([...micros.map((us) => ['old', us]), ...micros.map((us) => ['new', us])])
  })
  it("writes output streams with `at` as a UTC instant, exactly the engine's epoch ms", async () => {
    const root = join(tmp, 'streams')
    const { log } = await openEventLog(join(root, 'log'), { partitions: 1 })
    const at = [Date.parse('2026-11-01T00:00:00.001Z'), Date.parse('2026-11-01T23:59:59.999Z')]
    await log.append(
      TOPICS.segmentChanges,
      0,
      at.map((t, i) => ({
        key: `default:u${i}`,
        timestamp: t,
        value: Buffer.from(JSON.stringify({ segment: 's', tenant: 'default', user_id: `u${i}`, change: 'entered', at: t, values: {}, version: 1 })),
      })),
    )
    await runSinkOnce(log, join(root, 'wh'))
    await log.close()
    const files = liveFiles((await listPartFilesUnder(join(root, 'wh', 'segment-changes'))).parts)
    expect(files).toHaveLength(1)
    const { meta, rows } = await read(files[0]!)
    expect(declared(meta.schema.find((e) => e.name === 'at')!)).toBe(INSTANT)
    expect(rows.map((r) => r.at)).toEqual(at.map((t) => BigInt(t) * 1000n))
  })
})
