import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeEvent, encodeEvent, partitionFor, partitionKey, validateEvent, type JsonValue, type TrackedEvent } from '../../src/events/index.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { batchOfRecords } from '../../src/log/read-batch.ts'
import { BASE_COLUMNS, eventsGlob } from '../../src/warehouse/layout.ts'
import { ROW_GROUP_ROWS } from '../../src/warehouse/sink/event-columns.ts'
import { EventRows, roundHalfEven } from '../../src/warehouse/sink/event-rows.ts'
import { decodeEngineRecord } from '../../src/engine/engine-record.ts'
import { writePieces } from '../../src/warehouse/sink/files.ts'
import { compactDay, listPartFiles, runSinkOnce } from '../../src/warehouse/sink/index.ts'
import { JSON_LOG_TIME, JSON_RECORD_CASES } from '../events/json-record-cases.ts'
import { appendAll, query } from './sink-helpers.ts'

/*
 * The sink encodes event files itself (src/warehouse/sink/event-rows.ts). These tests read them back
 * with DuckDB and hold them against an oracle written here from decoded events (the column rules of
 * docs/warehouse-sink.md, restated independently), and against DuckDB's own Parquet writer given the
 * oracle's rows: same schema, same values.
 */

const tmp = mkdtempSync(join(tmpdir(), 'tagstream-event-rows-'))
let db: DuckDBInstance
let c: DuckDBConnection
beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:')
  c = await db.connect()
  // Event files hold instants (TIMESTAMPTZ): shown, and converted from TIMESTAMP, in UTC whatever the machine's zone.
  await c.run(`SET TimeZone = 'UTC'`)
})
afterAll(() => {
  c.closeSync()
  db.closeSync()
  rmSync(tmp, { recursive: true, force: true })
})
let n = 0
const fresh = () => join(tmp, `case-${n++}`)
const lit = (s: string) => `'${s.replaceAll("'", "''")}'`
const rowsOf = async (sql: string) => (await c.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>

const T0 = Date.UTC(2026, 10, 1, 12)
const awkward = [
  'plain',
  '',
  'comma, and "quotes" and \'single\'',
  'back\\slash \\" and \\n literally',
  'line\nbreak\r\nand\ttab',
  'control \u0001\u0008\u000c\u001f chars',
  'unicode: ğüşİ 日本 🎰 \u2028\u2029',
  '"',
  '""',
  ',',
]

function event(i: number, raw: Record<string, unknown>): TrackedEvent {
  const v = validateEvent({ event: 'tricky', user_id: `u${i % 7}`, ts: T0 + i, event_id: `t-${i}`, ...raw }, { receivedAt: T0 + i + 3 })
  if (!v.ok) throw new Error(v.error.reason)
  return v.event
}

/** Every awkward case in one set of events: values, keys, case variants, nesting, arrays, nulls, conflicts. */
function awkwardEvents(): TrackedEvent[] {
  const events: TrackedEvent[] = []
  for (let i = 0; i < awkward.length; i++) {
    const s = awkward[i]!
    events.push(
      event(i, { user_id: `user ${s}`, text: s, n: [0, -1, 0.1, -2.5e-7, 6.02214076e-23, 123456789012345, 2 ** 53 - 1, -3, 7.25, 1 / 3][i]!, flag: i % 2 === 0, nested: { s, deep: { k: i } } }),
    )
  }
  // Keys that are awkward too, and case variants of one name within a file (one column, later value wins).
  events.push(event(100, { 'we"ird,key': 1, 'new\nline': 'x', Amount: 2, amount: 5 }))
  events.push(event(101, { amount: 3, Offset: 1, dt: 'd', 日本: true }))
  events.push(event(102, { anonymous_id: 'anon "a", b', user_id: undefined, list: [1, 'two', { three: 3 }], nothing: null }))
  // Type conflicts: a number, a string, a boolean and a nested value under one column; a missing property.
  events.push(event(103, { mixed: 1.5, nested_s: 7 }))
  events.push(event(104, { mixed: 'one "and" a half', empty: {} }))
  events.push(event(105, { mixed: false, anonymous_id: ' ' }))
  return events
}

/**
 * The oracle: a file's property columns (first seen, case-insensitive, p_ for reserved names) and its
 * rows. A column's type is the one most of its values have (ties: the first value's); a value of
 * another type is NULL in the column and kept in `_rescued` ({"column": value}, in column order).
 */
function oracle(events: readonly TrackedEvent[], partition: number, offsets: readonly number[]) {
  const reserved = new Set([...BASE_COLUMNS.map((col) => col.name), 'dt', '_rescued'])
  const columns: Array<{ name: string; type: string; conflict: boolean; counts: Map<string, number> }> = []
  const byName = new Map<string, number>()
  const scalars = (props: Record<string, JsonValue>, prefix = ''): Array<[string, string | number | boolean]> => {
    const out: Array<[string, string | number | boolean]> = []
    for (const [k, v] of Object.entries(props)) {
      const key = prefix + k
      if (v === null || Array.isArray(v)) continue
      if (typeof v === 'object') out.push(...scalars(v, key + '_'))
      else out.push([key, v])
    }
    return out
  }
  const perRow = events.map((e) => {
    const values = new Map<number, string | number | boolean>()
    for (const [key, v] of scalars(e.properties)) {
      const name = reserved.has(key.toLowerCase()) ? 'p_' + key : key
      let col = byName.get(name.toLowerCase())
      const type = typeof v === 'number' ? 'DOUBLE' : typeof v === 'boolean' ? 'BOOLEAN' : 'VARCHAR'
      if (col === undefined) {
        col = columns.length
        columns.push({ name, type, conflict: false, counts: new Map() })
        byName.set(name.toLowerCase(), col)
      } else if (columns[col]!.type !== type) columns[col]!.conflict = true
      values.set(col, v)
    }
    return values
  })
  const typeOf = (v: string | number | boolean) => (typeof v === 'number' ? 'DOUBLE' : typeof v === 'boolean' ? 'BOOLEAN' : 'VARCHAR')
  for (const values of perRow) for (const [col, v] of values) columns[col]!.counts.set(typeOf(v), (columns[col]!.counts.get(typeOf(v)) ?? 0) + 1)
  for (const col of columns) {
    if (!col.conflict) continue
    const n = (t: string) => col.counts.get(t) ?? 0
    for (const t of ['DOUBLE', 'VARCHAR', 'BOOLEAN']) if (n(t) > n(col.type)) col.type = t
  }
  const rescued = columns.some((col) => col.conflict)
  const rows = events.map((e, i) => {
    const row: Record<string, unknown> = {
      event: e.event,
      user_id: e.user_id,
      anonymous_id: e.anonymous_id ?? null,
      ts_ms: e.ts,
      event_id: e.event_id,
      tenant: e.tenant,
      received_at_ms: e.received_at,
      partition,
      offset: offsets[i],
      properties: JSON.stringify(e.properties),
    }
    const rescue: Record<string, unknown> = {}
    for (const [col, v] of [...perRow[i]!].sort(([a], [b]) => a - b)) {
      if (typeOf(v) === columns[col]!.type) row[`c${col}`] = v
      else rescue[columns[col]!.name] = v
    }
    if (Object.keys(rescue).length > 0) row._rescued = JSON.stringify(rescue)
    return row
  })
  return { columns: columns.map((col) => ({ name: col.name, type: col.type })), rows, rescued }
}

/** The oracle's rows written by DuckDB's own Parquet writer: the reference a file of ours must equal. */
async function referenceFile(dir: string, o: ReturnType<typeof oracle>): Promise<string> {
  const json = join(dir, 'oracle.ndjson')
  writeFileSync(json, o.rows.map((r) => JSON.stringify(r)).join('\n') + '\n')
  const decl = [
    `event: 'VARCHAR', user_id: 'VARCHAR', anonymous_id: 'VARCHAR', ts_ms: 'BIGINT', event_id: 'VARCHAR', tenant: 'VARCHAR'`,
    `received_at_ms: 'BIGINT', "partition": 'INTEGER', "offset": 'BIGINT', properties: 'VARCHAR'`,
    ...o.columns.map((col, i) => `c${i}: '${col.type}'`),
    ...(o.rescued ? [`_rescued: 'VARCHAR'`] : []),
  ]
  const select = [
    'event, user_id, anonymous_id, epoch_ms(ts_ms)::TIMESTAMPTZ AS ts, event_id, tenant, epoch_ms(received_at_ms)::TIMESTAMPTZ AS received_at, "partition", "offset", properties',
    ...o.columns.map((col, i) => `c${i} AS "${col.name.replaceAll('"', '""')}"`),
    ...(o.rescued ? ['_rescued'] : []),
  ]
  const ref = join(dir, 'reference.parquet')
  await c.run(`COPY (SELECT ${select.join(', ')} FROM read_json(${lit(json)}, format = 'newline_delimited', columns = {${decl.join(', ')}})) TO ${lit(ref)} (FORMAT parquet)`)
  return ref
}

/** Our file equals DuckDB's for the same rows: schema as parquet_schema() reports it, and every value. */
async function expectSameAsDuckDB(ours: string, ref: string, rows: number): Promise<void> {
  const schema = async (f: string) => rowsOf(`SELECT name, type, repetition_type, converted_type, logical_type, duckdb_type FROM parquet_schema(${lit(f)}) WHERE num_children IS NULL`)
  expect(await schema(ours)).toEqual(await schema(ref))
  const read = (f: string) => `SELECT * FROM read_parquet(${lit(f)}, hive_partitioning = false)`
  const [diff] = await rowsOf(
    `SELECT (SELECT count(*) FROM (${read(ours)} EXCEPT ALL ${read(ref)})) AS a, (SELECT count(*) FROM (${read(ref)} EXCEPT ALL ${read(ours)})) AS b, (SELECT count(*) FROM (${read(ours)})) AS n`,
  )
  expect(diff).toEqual({ a: 0n, b: 0n, n: BigInt(rows) })
}

describe('event files encoded by the sink', () => {
  it('hold awkward values exactly, as DuckDB writes the same rows', async () => {
    const events = awkwardEvents()
    const dir = fresh()
    const { log } = await openEventLog(join(dir, 'log'), { partitions: 1 })
    await log.append(
      TOPICS.events,
      0,
      events.map((e) => ({ key: partitionKey(e.tenant, e.user_id), value: encodeEvent(e) })),
    )
    const res = await runSinkOnce(log, join(dir, 'wh'))
    await log.close()
    expect(res.rowsWritten).toBe(events.length)
    expect(res.typeConflicts).toBe(2) // mixed, nested_s
    const { parts } = await listPartFiles(join(dir, 'wh'))
    expect(parts).toHaveLength(1)
    const o = oracle(
      events,
      0,
      events.map((_, i) => i),
    )
    // One number, one string, one boolean: the first value's type; nested_s: ten strings and a number.
    expect(o.columns.find((col) => col.name === 'mixed')).toEqual({ name: 'mixed', type: 'DOUBLE' })
    expect(o.columns.find((col) => col.name === 'nested_s')).toEqual({ name: 'nested_s', type: 'VARCHAR' })
    expect(o.rows.filter((r) => r._rescued !== undefined).map((r) => r._rescued)).toEqual(['{"nested_s":7}', '{"mixed":"one \\"and\\" a half"}', '{"mixed":false}'])
    await expectSameAsDuckDB(parts[0]!.path, await referenceFile(dir, o), events.length)
  })

  it('are read back with the right values through the warehouse glob', async () => {
    const events = awkwardEvents()
    const dir = fresh()
    const { log, partitions } = await openEventLog(join(dir, 'log'), { partitions: 2 })
    await appendAll(log, events, partitions)
    await runSinkOnce(log, join(dir, 'wh'))
    await log.close()
    const rows = await query(join(dir, 'wh'), (from) => `SELECT * FROM ${from}`)
    const byId = new Map(rows.map((r) => [String(r.event_id), r]))
    for (const e of events) {
      const r = byId.get(e.event_id)!
      expect(r, e.event_id).toBeDefined()
      expect(r.user_id).toBe(e.user_id)
      expect(r.anonymous_id ?? undefined).toBe(e.anonymous_id)
      expect((r.ts as Date).getTime()).toBe(e.ts)
      expect((r.received_at as Date).getTime()).toBe(e.received_at)
      expect(r.partition).toBe(partitionFor(partitionKey(e.tenant, e.user_id), partitions))
      expect(JSON.parse(String(r.properties))).toEqual(e.properties)
      const p = e.properties as Record<string, unknown>
      if (typeof p.text === 'string') {
        expect(r.text).toBe(p.text)
        expect(Object.is(r.n, p.n) || r.n === p.n).toBe(true)
        expect(r.flag).toBe(p.flag)
        expect(r.nested_deep_k).toBe((p.nested as { deep: { k: number } }).deep.k)
      }
    }
    const weird = byId.get('t-100')!
    expect(weird['we"ird,key']).toBe(1)
    expect(weird['new\nline']).toBe('x')
    expect(weird.Amount).toBe(5)
    expect(byId.get('t-101')!.p_Offset).toBe(1)
    expect(byId.get('t-101')!.p_dt).toBe('d')
    expect(byId.get('t-101')!['日本']).toBe(true)
    expect(byId.get('t-102')!.list).toBeUndefined()
    expect(byId.get('t-105')!.anonymous_id).toBe(' ')
  })

  it('rounds fractional times of an envelope as DuckDB casts them', async () => {
    const dir = fresh()
    const { log } = await openEventLog(join(dir, 'log'), { partitions: 1 })
    const times = [T0 + 0.5, T0 + 1.5, T0 + 2.4999, T0 + 3.5000001, T0 + 4, -2.5, -3.5, 1e15 + 0.5]
    const events = times.map((t, i): TrackedEvent => ({
      event: 'fractional',
      user_id: 'u',
      ts: T0 + i + 0.5,
      event_id: `j${i}`,
      tenant: 'default',
      received_at: t,
      properties: { text: 'from "elsewhere"', n: 2.5 },
    }))
    await log.append(
      TOPICS.events,
      0,
      events.map((e) => ({ key: 'default:u', value: Buffer.from(encodeEvent(e)) })),
    )
    await runSinkOnce(log, join(dir, 'wh'))
    await log.close()
    const got = await query(join(dir, 'wh'), (from) => `SELECT epoch_ms(ts) AS ts, epoch_ms(received_at) AS r, text, n, properties FROM ${from} ORDER BY "offset"`)
    const want = await rowsOf(`SELECT epoch_ms(epoch_ms(CAST(t AS BIGINT))) AS r FROM (SELECT unnest([${events.map((e) => e.received_at).join(', ')}]::DOUBLE[]) AS t)`)
    expect(got.map((r) => r.r)).toEqual(want.map((r) => r.r))
    expect(got.map((r) => Number(r.ts))).toEqual(events.map((e) => roundHalfEven(e.ts)))
    expect(got[0]!.text).toBe('from "elsewhere"')
    expect(got[0]!.n).toBe(2.5)
    expect(JSON.parse(String(got[0]!.properties))).toEqual(events[0]!.properties)
  })

  it('reads events that another producer wrote as JSON exactly as the engine does: same event_id, ts, tenant and properties', async () => {
    const dir = fresh()
    const { log } = await openEventLog(join(dir, 'log'), { partitions: 2 })
    const P = 1
    await log.append(
      TOPICS.events,
      P,
      JSON_RECORD_CASES.map((c) => ({ key: null, value: c.value, timestamp: JSON_LOG_TIME })),
    )
    const res = await runSinkOnce(log, join(dir, 'wh'))
    await log.close()
    // What the engine makes of each record (the same record at the same position).
    const engine = JSON_RECORD_CASES.map((c, offset) => decodeEngineRecord(c.value, 0, c.value.length, P, offset, JSON_LOG_TIME))
    const rows = JSON_RECORD_CASES.flatMap((c, offset) => {
      const d = engine[offset]!
      expect(d.kind, c.note).toBe(c.event ? 'event' : 'poison')
      return d.kind === 'event' && c.sinkRefuses !== true ? [{ offset, e: d.event }] : []
    })
    expect(res.poisonRecords).toBe(JSON_RECORD_CASES.length - rows.length)
    const got = await query(
      join(dir, 'wh'),
      (from) => `SELECT "offset", event, user_id, anonymous_id, epoch_ms(ts) AS ts, epoch_ms(received_at) AS r, event_id, tenant, "partition", properties FROM ${from} ORDER BY "offset"`,
    )
    expect(got.map((r) => ({ ...r, offset: Number(r.offset), ts: Number(r.ts), r: Number(r.r), properties: JSON.parse(String(r.properties)) as unknown }))).toEqual(
      rows.map(({ offset, e }) => ({
        offset,
        event: e.event,
        user_id: e.user_id,
        anonymous_id: e.anonymous_id ?? null,
        ts: e.ts,
        r: e.received_at,
        event_id: e.event_id,
        tenant: e.tenant,
        partition: P,
        properties: e.properties,
      })),
    )
    // Flat properties are columns, as for any event; a `properties` field is a property like another.
    const [flat] = await query(join(dir, 'wh'), (from) => `SELECT amount, currency, properties_amount FROM ${from} WHERE event_id = 'j-2' OR user_id = '1' ORDER BY "offset"`)
    expect(flat).toMatchObject({ amount: 5, currency: 'EUR', properties_amount: null })
  })

  it('rounds halves to even, as DuckDB CAST(DOUBLE AS BIGINT) does', async () => {
    const xs = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999999, 2.5000001, 1762000000000.5, 1762000000001.5, 2 ** 52 - 0.5, -(2 ** 52) + 0.5, 123.75]
    const [r] = await rowsOf(`SELECT list_transform([${xs.join(', ')}]::DOUBLE[], x -> CAST(x AS BIGINT)) AS v`)
    expect((r!.v as bigint[]).map(Number)).toEqual(xs.map(roundHalfEven))
  })

  it('split large files into row groups, with columns and conflicts that appear only in a later one', async () => {
    const total = ROW_GROUP_ROWS + 1_000
    const records = []
    for (let i = 0; i < total; i++) {
      const late = i >= ROW_GROUP_ROWS
      const props: Record<string, JsonValue> = { bet: i % 10, win: i % 3 === 0 }
      if (late) props.late = `l${i}`
      if (i % 1000 === 0) props.mixed = late ? 'text' : i
      const raw: Record<string, unknown> = { event: 'spin', user_id: `u${i % 100}`, ts: T0 + i, event_id: `r${i}`, ...props }
      if (i % 5 === 0) raw.anonymous_id = `a${i}`
      const v = validateEvent(raw, { receivedAt: T0 + i + 1 })
      if (!v.ok) throw new Error(v.error.reason)
      records.push({ offset: 1_000 + i, key: null, value: Buffer.from(encodeEvent(v.event)), timestamp: 0 })
    }
    const [file, ...others] = new EventRows().transcode([batchOfRecords(records)])
    expect(others).toHaveLength(0)
    expect(file!.conflicts).toEqual(['mixed'])
    const dir = fresh()
    const path = join(dir, 'big.parquet')
    mkdirSync(dir, { recursive: true })
    writePieces(path, file!.encode(3))
    file!.release()

    const groups = await rowsOf(
      `SELECT row_group_id AS g, row_group_num_rows AS n, stats_min_value AS lo, stats_max_value AS hi FROM parquet_metadata(${lit(path)}) WHERE path_in_schema = 'offset' ORDER BY g`,
    )
    expect(groups).toEqual([
      { g: 0n, n: BigInt(ROW_GROUP_ROWS), lo: '1000', hi: String(1_000 + ROW_GROUP_ROWS - 1) },
      { g: 1n, n: 1_000n, lo: String(1_000 + ROW_GROUP_ROWS), hi: String(1_000 + total - 1) },
    ])
    const ts = await rowsOf(`SELECT stats_min_value AS lo, stats_max_value AS hi, stats_null_count AS nulls FROM parquet_metadata(${lit(path)}) WHERE path_in_schema = 'ts' ORDER BY row_group_id`)
    expect(ts[0]).toEqual({ lo: '2026-11-01 12:00:00+00', hi: new Date(T0 + ROW_GROUP_ROWS - 1).toISOString().replace('T', ' ').replace('Z', '+00'), nulls: 0n })
    const [summary] = await rowsOf(`SELECT count(*) AS n, count(late) AS late, min(late) AS first_late, count(anonymous_id) AS anon, sum(bet) AS bet, count_if(win) AS wins,
      count(mixed) AS mixed, min("partition") AS p, max("partition") AS q FROM read_parquet(${lit(path)})`)
    const numbers = Math.ceil(ROW_GROUP_ROWS / 1000)
    expect(summary).toEqual({
      n: BigInt(total),
      late: 1_000n,
      first_late: `l${ROW_GROUP_ROWS}`,
      anon: BigInt(Math.ceil(total / 5)),
      bet: records.reduce((s, _, i) => s + (i % 10), 0),
      wins: BigInt(Math.ceil(total / 3)),
      mixed: BigInt(numbers),
      p: 3,
      q: 3,
    })
    // mixed stays DOUBLE (123 numbers against one string); the string is kept in _rescued, in the second row group.
    const mixed = await rowsOf(`SELECT mixed, _rescued FROM read_parquet(${lit(path)}) WHERE mixed IS NOT NULL OR _rescued IS NOT NULL ORDER BY "offset"`)
    expect(mixed.map((r) => [r.mixed, r._rescued])).toEqual(Array.from({ length: Math.ceil(total / 1000) }, (_, k) => (k < numbers ? [k * 1000, null] : [null, '{"mixed":"text"}'])))
    const [row] = await rowsOf(`SELECT * FROM read_parquet(${lit(path)}) WHERE "offset" = ${1_000 + ROW_GROUP_ROWS + 5}`)
    const e = decodeEvent(records[ROW_GROUP_ROWS + 5]!.value)
    expect(row).toMatchObject({ event: 'spin', user_id: e.user_id, anonymous_id: e.anonymous_id ?? null, event_id: e.event_id, tenant: e.tenant, partition: 3, bet: 5, late: `l${ROW_GROUP_ROWS + 5}` })
    expect(JSON.parse(String(row!.properties))).toEqual(e.properties)
  })

  it('read together with compacted files by name, and compact with DuckDB into the same schema', async () => {
    const dir = fresh()
    const { log, partitions } = await openEventLog(join(dir, 'log'), { partitions: 1 })
    const root = join(dir, 'wh')
    const batch = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => event(from + i, { bet: from + i, text: awkward[(from + i) % awkward.length]!, ...(from > 0 ? { extra: true } : {}) }))
    await appendAll(log, batch(0, 50), partitions)
    await runSinkOnce(log, root, { flushRows: 20 })
    const freshSchema = await rowsOf(`DESCRIBE SELECT * FROM read_parquet(${lit((await listPartFiles(root)).parts[0]!.path)})`)
    expect((await compactDay(root, '2026-11-01')).filesWritten).toBe(1)
    const [compacted] = (await listPartFiles(root)).parts
    expect(await rowsOf(`DESCRIBE SELECT * FROM read_parquet(${lit(compacted!.path)})`)).toEqual(freshSchema)
    // Fresh files of the same day beside the compacted one, with a column the compacted file lacks.
    await appendAll(log, batch(50, 30), partitions)
    await runSinkOnce(log, root, { flushRows: 20 })
    await log.close()
    expect((await listPartFiles(root)).parts.length).toBe(3)
    const all = await rowsOf(
      `SELECT count(*) AS n, count(extra) AS extra, sum(bet) AS bet, count(DISTINCT text) AS texts FROM read_parquet(${lit(eventsGlob(root))}, hive_partitioning = true, union_by_name = true)`,
    )
    expect(all).toEqual([{ n: 80n, extra: 30n, bet: (79 * 80) / 2, texts: BigInt(awkward.length) }])
    const types = await rowsOf(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${lit(eventsGlob(root))}, hive_partitioning = true, union_by_name = true))`)
    expect(types.map((t) => `${t.column_name} ${t.column_type}`)).toEqual([
      ...BASE_COLUMNS.map((col) => `${col.name} ${col.type === 'TIMESTAMP' ? 'TIMESTAMP WITH TIME ZONE' : col.type}`),
      'bet DOUBLE',
      'text VARCHAR',
      'extra BOOLEAN',
      'dt DATE',
    ])
    expect((await compactDay(root, '2026-11-01')).filesWritten).toBe(1)
    const [after] = await rowsOf(`SELECT count(*) AS n, count(extra) AS extra FROM read_parquet(${lit(eventsGlob(root))}, union_by_name = true)`)
    expect(after).toEqual({ n: 80n, extra: 30n })
  })
})
