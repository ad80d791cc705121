import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { encodeClockRecord } from '../../src/events/clock-record.ts'
import { decodeEngineRecord } from '../../src/engine/engine-record.ts'
import { encodeEvent, validateEvent, type TrackedEvent } from '../../src/events/index.ts'
import type { DeadLetter } from '../../src/ingest/dead-letters.ts'
import { TOPICS, type AppendRecord, type EventLog } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { runSinkOnce, startWarehouseSink } from '../../src/warehouse/sink/index.ts'
import { JSON_LOG_TIME, JSON_RECORD_CASES } from '../events/json-record-cases.ts'
import { query } from './sink-helpers.ts'

/*
 * Issue 15, item 1, for the warehouse sink: records a third-party producer could write to the topics
 * (random bytes, truncated or corrupted envelopes, odd JSON) between valid events. The sink keeps
 * running, writes every valid event once, and accounts for every other record: clock records are
 * skipped, the rest go to the dead letters with their partition and offset. The skip is the same on
 * every run, so the files are too.
 */

const tmp = mkdtempSync(join(tmpdir(), 'tagstream-sink-poison-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
let n = 0
const fresh = () => join(tmp, `case-${n++}`)

const T0 = Date.UTC(2026, 10, 5, 9)

function valid(i: number): TrackedEvent {
  const v = validateEvent({ event: i % 2 ? 'spin' : 'purchase', user_id: `u${i % 5}`, ts: T0 + i, event_id: `ok-${i}`, bet: i, note: `n${i}` }, { receivedAt: T0 + i + 1 })
  if (!v.ok) throw new Error(v.error.reason)
  return v.event
}

/** A deterministic stream of bytes (no Math.random: a failing case must come back the same). */
function rng(seed: number): () => number {
  let s = seed
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32
}

type Kind = 'valid' | 'clock' | 'poison' | 'json'

/** What a third-party producer might put in the events topic, each with what the sink must make of it. */
function hostileRecords(count: number, seed: number): Array<{ kind: Kind; value: Buffer; note: string }> {
  const r = rng(seed)
  const out: Array<{ kind: Kind; value: Buffer; note: string }> = []
  const good = (i: number) => Buffer.from(encodeEvent(valid(i)))
  let jsonSeq = 0
  for (let i = 0; i < count; i++) {
    out.push({ kind: 'valid', value: good(i), note: 'valid' })
    const e = good(1000 + i)
    const pick = i % 16
    if (pick === 0) {
      const b = Buffer.from(Array.from({ length: 1 + Math.floor(r() * 200) }, () => Math.floor(r() * 256)))
      // A first byte of 2 is a clock record's: legitimately skipped, counted apart.
      if (b[0] === 2) b[0] = 3
      out.push({ kind: 'poison', value: b, note: 'random bytes' })
    } else if (pick === 1) out.push({ kind: 'poison', value: e.subarray(0, 1 + Math.floor(r() * (e.length - 1))), note: 'truncated envelope' })
    else if (pick === 2) out.push({ kind: 'poison', value: Buffer.concat([e, Buffer.of(1, 2, 3)]), note: 'bytes after the envelope' })
    else if (pick === 3) {
      const b = Buffer.from(e)
      // NaN, or a year past 9999 (no `dt=YYYY-MM-DD` directory for it).
      b.writeDoubleLE(i % 32 === 3 ? Number.NaN : 8e15, 1)
      out.push({ kind: 'poison', value: b, note: 'ts not a time in range' })
    } else if (pick === 4) {
      const b = Buffer.from(e)
      b[b.indexOf('n1')] = 0xff
      out.push({ kind: 'poison', value: b, note: 'invalid UTF-8 in a value' })
    } else if (pick === 5) {
      const b = Buffer.from(e)
      b[b.indexOf('bet') + 3] = 9 // the type byte of `bet`'s value: no such type
      out.push({ kind: 'poison', value: b, note: 'corrupted property' })
    } else if (pick === 6) out.push({ kind: 'clock', value: encodeClockRecord(T0 + i), note: 'clock' })
    else if (pick === 14) out.push({ kind: 'poison', value: Buffer.of(1), note: 'one version byte' })
    else if (pick === 15) out.push({ kind: 'poison', value: Buffer.alloc(0), note: 'empty record' })
    else {
      // Another producer's JSON (picks 7 to 13), the cases every reader of the log is tested with:
      // an event where the engine makes one of it and a file can hold it, else poison.
      const c = JSON_RECORD_CASES[jsonSeq++ % JSON_RECORD_CASES.length]!
      out.push({ kind: c.event && c.sinkRefuses !== true ? 'json' : 'poison', value: c.value, note: c.note })
    }
  }
  return out
}

async function deadLetters(log: EventLog): Promise<DeadLetter[]> {
  const out: DeadLetter[] = []
  const partitions = (await log.partitionCount(TOPICS.deadLetters))!
  for (let p = 0; p < partitions; p++) {
    for (const rec of await log.read(TOPICS.deadLetters, p, 0, { maxRecords: 100_000 })) out.push(JSON.parse(Buffer.from(rec.value).toString('utf8')) as DeadLetter)
  }
  return out
}

/** The JSON cases' times are relative to their log time (a `ts` a day ahead of it is refused). */
const LOG_TIME = JSON_LOG_TIME

describe('the warehouse sink and records it cannot read', () => {
  it('skips them into the dead letters, writes every other event once, and does so the same way every run', async () => {
    const dir = fresh()
    const { log } = await openEventLog(join(dir, 'log'), { partitions: 2 })
    const records = hostileRecords(160, 11)
    await log.append(
      TOPICS.events,
      1,
      records.map((x): AppendRecord => ({ key: 'default:u', value: x.value, timestamp: LOG_TIME })),
    )
    const root = join(dir, 'wh')
    // Small flushes: poison lands at every position of a flush, first and last included.
    const res = await runSinkOnce(log, root, { flushRows: 7 })
    const poison = records.flatMap((x, offset) => (x.kind === 'poison' ? [{ offset, note: x.note }] : []))
    const written = records.flatMap((x, offset) => (x.kind === 'valid' || x.kind === 'json' ? [offset] : []))
    const clocks = records.filter((x) => x.kind === 'clock').length
    expect(poison.length + written.length + clocks).toBe(records.length)
    expect(res.lastError).toBeNull()
    expect(res.poisonRecords).toBe(poison.length)
    expect(res.committed[1]).toBe(records.length)

    const rows = await query(root, (from) => `SELECT "offset", event, user_id, epoch_ms(ts) AS ts, event_id, tenant, properties FROM ${from} ORDER BY "offset"`)
    expect(rows.map((row) => Number(row.offset))).toEqual(written)
    // A JSON record's row is the event the engine makes of the same record at the same position.
    for (const row of rows) {
      const offset = Number(row.offset)
      const x = records[offset]!
      if (x.kind !== 'json') continue
      const d = decodeEngineRecord(x.value, 0, x.value.length, 1, offset, LOG_TIME)
      if (d.kind !== 'event') throw new Error(`${x.note}: the engine did not take it`)
      const e = d.event
      expect({ ...row, ts: Number(row.ts), properties: JSON.parse(String(row.properties)) as unknown }, x.note).toEqual({
        offset: row.offset,
        event: e.event,
        user_id: e.user_id,
        ts: e.ts,
        event_id: e.event_id,
        tenant: e.tenant,
        properties: e.properties,
      })
    }
    expect(rows.find((row) => row.user_id === '1')).toMatchObject({ tenant: 'default', event_id: expect.stringMatching(/^events:1:\d+$/) as unknown })
    // No directory outside the layout.
    expect(readdirSync(join(root, 'events')).filter((d) => !d.startsWith('dt=') && !d.startsWith('_'))).toEqual([])

    const letters = await deadLetters(log)
    expect(letters.map((d) => d.offset).sort((a, b) => a! - b!)).toEqual(poison.map((x) => x.offset))
    for (const d of letters) {
      expect(d).toMatchObject({ source: 'warehouse-sink', topic: 'events', partition: 1, index: -1 })
      expect(Buffer.from(d.raw_base64, 'base64').equals(records[d.offset!]!.value)).toBe(true)
      expect(d.reason.length).toBeGreaterThan(0)
    }
    // Refused JSON is keyed by the tenant it names (`default` for an object without one), garbage by none.
    const letterOf = (note: string) => letters.find((d) => records[d.offset!]!.note === note)!
    expect(letterOf('string too long')).toMatchObject({ tenant: 'acme', reason: expect.stringMatching(/^note: string longer than/) as unknown })
    expect(letterOf('no event')).toMatchObject({ tenant: 'default', reason: 'event: is required' })
    expect(letterOf('JSON array').tenant).toBe('')
    expect(letterOf('tenant longer than the envelope holds (255 bytes)').reason).toMatch(/longer than 255 bytes/)
    expect(letterOf('empty record').reason).toBe('empty record')

    // The same range, by another group into another root, with the same cuts: the same files, byte for byte.
    const again = join(dir, 'wh2')
    const res2 = await runSinkOnce(log, again, { flushRows: 7, group: 'warehouse-again' })
    await log.close()
    expect(res2.poisonRecords).toBe(poison.length)
    const files = (base: string) =>
      readdirSync(join(base, 'events'), { recursive: true, withFileTypes: true })
        .filter((f) => f.isFile() && f.name.endsWith('.parquet'))
        .map((f) => join(f.parentPath, f.name))
    const a = files(root)
      .map((f) => f.slice(root.length))
      .sort()
    expect(
      files(again)
        .map((f) => f.slice(again.length))
        .sort(),
    ).toEqual(a)
    for (const f of a) expect(readFileSync(join(again, f)).equals(readFileSync(join(root, f)))).toBe(true)
  })

  it('keeps running in the background past poison in the events and output streams', async () => {
    const dir = fresh()
    const { log } = await openEventLog(join(dir, 'log'), { partitions: 2 })
    const root = join(dir, 'wh')
    const sink = await startWarehouseSink(log, root, { flushIntervalMs: 50, pollWaitMs: 10, maintenanceIntervalMs: 3_600_000 })
    try {
      const first = hostileRecords(40, 5)
      await log.append(
        TOPICS.events,
        0,
        first.map((x) => ({ key: 'k', value: x.value, timestamp: LOG_TIME })),
      )
      const change = (i: number) => Buffer.from(JSON.stringify({ segment: 's', tenant: 'default', user_id: `u${i}`, change: 'entered', at: T0 + i, values: {}, version: i }))
      const streamRecords = [
        change(1),
        Buffer.from('not json'),
        Buffer.from('[]'),
        Buffer.from(JSON.stringify({ segment: 's', tenant: 'default', user_id: 'u', change: 'entered', at: 'later', version: 1 })),
        Buffer.from(JSON.stringify({ segment: { nested: true }, user_id: 'u', at: T0 })),
        Buffer.from(JSON.stringify({ segment: 's', tenant: 'default', user_id: 'u', change: 'exited', at: 1e300, version: 2 })),
        Buffer.of(0xff, 0xfe, 0x7b),
        change(2),
      ]
      await log.append(
        TOPICS.segmentChanges,
        0,
        streamRecords.map((value) => ({ key: 'k', value })),
      )
      await sink.flushNow()
      // More valid events after the poison: still copied.
      await log.append(
        TOPICS.events,
        0,
        [valid(5000), valid(5001)].map((e) => ({ key: 'k', value: Buffer.from(encodeEvent(e)) })),
      )
      await sink.flushNow()
      const stats = sink.stats()
      expect(stats.lastError).toBeNull()
      expect(stats.poisonRecords).toBe(first.filter((x) => x.kind === 'poison').length)
      expect(stats.streams['segment-changes']!.poisonRecords).toBe(6)
      expect(stats.streams['segment-changes']!.lastError).toBeNull()
      const rows = await query(root, (from) => `SELECT count(*)::INTEGER AS n FROM ${from}`)
      expect(rows[0]!.n).toBe(first.filter((x) => x.kind === 'valid' || x.kind === 'json').length + 2)
    } finally {
      await sink.stop()
    }
    const changes = await query(root, () => `SELECT user_id, "offset" FROM read_parquet('${root}/segment-changes/**/*.parquet') ORDER BY "offset"`)
    expect(changes.map((c) => [c.user_id, Number(c.offset)])).toEqual([
      ['u1', 0],
      ['u2', 7],
    ])
    const letters = await deadLetters(log)
    await log.close()
    expect(letters.filter((d) => d.topic === 'segment-changes').map((d) => d.offset)).toEqual([1, 2, 3, 4, 5, 6])
  })
})

describe('the warehouse sink under random corruption', () => {
  it('turns every mutated record into a row or a dead letter, and the warehouse stays queryable', async () => {
    const dir = fresh()
    const { log } = await openEventLog(join(dir, 'log'), { partitions: 1 })
    const r = rng(2026)
    const records: Buffer[] = []
    for (let i = 0; i < 3000; i++) {
      const v = validateEvent(
        { event: ['spin', 'purchase', 'login'][i % 3], user_id: `u${i % 50}`, ts: T0 + i, event_id: `f-${i}`, bet: i, win: i % 2 === 0, note: `n${i} ü`, meta: { a: i, b: [1, 2] } },
        { receivedAt: T0 + i },
      )
      if (!v.ok) throw new Error(v.error.reason)
      const b = Buffer.from(encodeEvent(v.event))
      // One to three random bytes changed, or the record cut short, or left whole (a third of them).
      const how = r()
      if (how < 0.5) for (let k = 1 + Math.floor(r() * 3); k > 0; k--) b[Math.floor(r() * b.length)] = Math.floor(r() * 256)
      records.push(how >= 0.5 && how < 0.65 ? b.subarray(0, Math.floor(r() * b.length)) : b)
    }
    await log.append(
      TOPICS.events,
      0,
      records.map((value) => ({ key: 'k', value, timestamp: LOG_TIME })),
    )
    const root = join(dir, 'wh')
    const res = await runSinkOnce(log, root, { flushRows: 500 })
    await log.close()
    // A first byte mutated to 2 or 3 reads as the engine's clock or identity record: skipped, as the sink skips those.
    const clocks = records.filter((b) => b[0] === 2 || b[0] === 3).length
    expect(res.lastError).toBeNull()
    expect(res.committed[0]).toBe(records.length)
    const [count] = await query(root, (from) => `SELECT count(*)::INTEGER AS n, count_if(json_valid(properties))::INTEGER AS json FROM ${from}`)
    const rows = Number(count!.n)
    expect(rows + res.poisonRecords + clocks).toBe(records.length)
    expect(count!.json).toBe(rows)
    expect(res.poisonRecords).toBeGreaterThan(1000)
    // Every column of every file reads back.
    const all = await query(root, (from) => `SELECT * FROM ${from}`)
    expect(all.length).toBe(rows)
  })
})
