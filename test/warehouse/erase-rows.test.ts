/**
 * Removing an erased person's rows from the warehouse (docs/privacy.md, "Erase"): every file holding
 * one is rewritten without it and nothing else changes (other rows, their values, the column
 * types); a file left empty goes. And the sink honours erase records in the log itself, so a
 * warehouse built from a log holding one has the person's rows from after the record only.
 */
import { rmSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { encodeEraseRecord } from '../../src/events/erase-record.ts'
import { encodeEvent, validateEvent, type TrackedEvent } from '../../src/events/index.ts'
import { partitionOfUser } from '../../src/events/partition.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { eraseRows, ParquetWriter, runSinkOnce } from '../../src/warehouse/sink/index.ts'
import { appendAll, logAndWarehouse, query, workload } from './sink-helpers.ts'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

const GONE = ['7', 'anon-7']
const IN = `(${GONE.map((id) => `'${id}'`).join(', ')})`

/** Count and an order-independent checksum of the rows `where` keeps, and the column types. */
async function digest(root: string, where: string): Promise<{ rows: number; checksum: string }> {
  const [a] = await query(
    root,
    (from) =>
      `SELECT count(*) AS n, sum(hash(event, user_id, anonymous_id, ts, event_id, tenant, received_at, "partition", "offset", properties, dt)::HUGEINT)::VARCHAR AS h FROM ${from} WHERE ${where}`,
  )
  return { rows: Number(a!.n), checksum: String(a!.h) }
}

const theirs = `(user_id IN ${IN} OR anonymous_id IN ${IN})`

describe('erasing rows from the warehouse', () => {
  it("rewrites the files holding a person's rows without them and leaves every other row as it was", async () => {
    const { log, partitions, root } = await logAndWarehouse('tagstream-erase-rows-', dirs)
    await appendAll(log, workload(3000), partitions)
    await runSinkOnce(log, root)
    const others = await digest(root, `NOT ${theirs} OR anonymous_id IS NULL AND user_id NOT IN ${IN}`)
    const before = await digest(root, theirs)
    expect(before.rows).toBeGreaterThan(5)
    const types = await query(root, (from) => `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ${from}) ORDER BY column_name`)
    const ends: Record<string, number> = {}
    for (let p = 0; p < partitions; p++) ends[String(p)] = (await log.offsets(TOPICS.events, p)).end
    const writer = await ParquetWriter.open()
    try {
      const done = await eraseRows(writer, root, { tenant: 'default', ids: GONE, events: ends, streams: {} })
      expect(done.rowsRemoved).toBe(before.rows)
      expect(done.filesRewritten + done.filesRemoved).toBeGreaterThan(0)
      // Again: nothing left to do.
      expect(await eraseRows(writer, root, { tenant: 'default', ids: GONE, events: ends, streams: {} })).toEqual({ filesRewritten: 0, filesRemoved: 0, rowsRemoved: 0 })
    } finally {
      writer.close()
    }
    expect((await digest(root, theirs)).rows).toBe(0)
    // Every other row, NULL anonymous ids included, exactly as it was.
    expect(await digest(root, 'true')).toEqual(others)
    expect(await query(root, (from) => `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ${from}) ORDER BY column_name`)).toEqual(types)
    await log.close()
  })

  it('keeps rows at or past the cut (a new profile of the same id) and rows of the same id in another tenant', async () => {
    const { log, partitions, root } = await logAndWarehouse('tagstream-erase-cut-', dirs)
    const events = workload(1000)
    await appendAll(log, events, partitions)
    const p = partitionOfUser('default', '7', partitions)
    const cut = (await log.offsets(TOPICS.events, p)).end
    const later = (tenant: string, i: number): TrackedEvent => {
      const v = validateEvent({ event: 'spin', user_id: '7', ts: Date.UTC(2026, 10, 2, 5) + i, event_id: `later-${tenant}-${i}` }, { receivedAt: Date.UTC(2026, 10, 2, 5), tenant })
      if (!v.ok) throw new Error(v.error.reason)
      return v.event
    }
    await log.append(
      TOPICS.events,
      p,
      [later('default', 1), later('default', 2)].map((e) => ({ key: 'default:7', value: Buffer.from(encodeEvent(e)), timestamp: e.ts })),
    )
    const q = partitionOfUser('beta', '7', partitions)
    await log.append(
      TOPICS.events,
      q,
      [later('beta', 3)].map((e) => ({ key: 'beta:7', value: Buffer.from(encodeEvent(e)), timestamp: e.ts })),
    )
    await runSinkOnce(log, root)
    const writer = await ParquetWriter.open()
    try {
      await eraseRows(writer, root, { tenant: 'default', ids: ['7'], events: { [String(p)]: cut }, streams: {} })
    } finally {
      writer.close()
    }
    const left = await query(root, (from) => `SELECT tenant, event_id FROM ${from} WHERE user_id = '7' ORDER BY event_id`)
    expect(left).toEqual([
      { tenant: 'beta', event_id: 'later-beta-3' },
      { tenant: 'default', event_id: 'later-default-1' },
      { tenant: 'default', event_id: 'later-default-2' },
    ])
    await log.close()
  })

  it('honours erase records in the log: a warehouse built from it holds the person only from after the record', async () => {
    const { log, partitions, root } = await logAndWarehouse('tagstream-erase-sink-', dirs)
    const events = workload(2000)
    await appendAll(log, events.slice(0, 1500), partitions)
    for (let p = 0; p < partitions; p++) await log.append(TOPICS.events, p, [{ key: 'default:7', value: encodeEraseRecord({ tenant: 'default', ids: GONE, job: 'era_x' }), timestamp: Date.now() }])
    await appendAll(log, events.slice(1500), partitions)
    // Small flushes: the person's rows before the record land in files of earlier flushes too.
    await runSinkOnce(log, root, { flushRows: 200 })
    const kept = events.slice(1500).filter((e) => GONE.includes(e.user_id) || (e.anonymous_id !== undefined && GONE.includes(e.anonymous_id)))
    const rows = await query(root, (from) => `SELECT event_id FROM ${from} WHERE ${theirs} ORDER BY event_id`)
    expect(rows.map((r) => r.event_id)).toEqual(kept.map((e) => e.event_id).sort())
    const total = await query(root, (from) => `SELECT count(*) AS n FROM ${from}`)
    const gone = events.slice(0, 1500).filter((e) => GONE.includes(e.user_id) || (e.anonymous_id !== undefined && GONE.includes(e.anonymous_id))).length
    expect(gone).toBeGreaterThan(0)
    expect(Number(total[0]!.n)).toBe(events.length - gone)
    await log.close()
  })
})
