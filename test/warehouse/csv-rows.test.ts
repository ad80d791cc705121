import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { partitionFor, partitionKey, validateEvent, type TrackedEvent } from '../../src/events/index.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { runSinkOnce } from '../../src/warehouse/sink/index.ts'
import { appendAll, query } from './sink-helpers.ts'

const tmp = mkdtempSync(join(tmpdir(), 'tagstream-csv-rows-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

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

describe('the sink writes awkward values exactly', () => {
  it('strings, numbers, booleans, nesting and ids with quotes, commas, newlines, control characters and unicode', async () => {
    const events: TrackedEvent[] = []
    for (let i = 0; i < awkward.length; i++) {
      const s = awkward[i]!
      events.push(event(i, { user_id: `user ${s}`, text: s, n: [0, -1, 0.1, -2.5e-7, 6.02214076e-23, 123456789012345, 2 ** 53 - 1, -3, 7.25, 1 / 3][i]!, flag: i % 2 === 0, nested: { s, deep: { k: i } } }))
    }
    // Keys that are awkward too, and case variants of one name within a file (one column, later value wins).
    events.push(event(100, { 'we"ird,key': 1, 'new\nline': 'x', Amount: 2 }))
    events.push(event(101, { amount: 3 }))
    events.push(event(102, { anonymous_id: 'anon "a", b', user_id: undefined, list: [1, 'two', { three: 3 }], nothing: null }))

    const dir = join(tmp, 'a')
    const { log, partitions } = await openEventLog(join(dir, 'log'), { partitions: 2 })
    await appendAll(log, events, partitions)
    const res = await runSinkOnce(log, join(dir, 'wh'))
    await log.close()
    expect(res.rowsWritten).toBe(events.length)

    const rows = await query(join(dir, 'wh'), (from) => `SELECT * FROM ${from}`)
    const byId = new Map(rows.map((r) => [String(r.event_id), r]))
    for (const e of events) {
      const r = byId.get(e.event_id)!
      expect(r, e.event_id).toBeDefined()
      expect(r.user_id).toBe(e.user_id)
      expect(r.anonymous_id ?? undefined).toBe(e.anonymous_id)
      expect((r.ts as Date).getTime()).toBe(e.ts)
      expect(r.partition).toBe(partitionFor(partitionKey(e.tenant, e.user_id), partitions))
      expect(JSON.parse(String(r.properties))).toEqual(e.properties)
      const p = e.properties as Record<string, unknown>
      if (typeof p.text === 'string') {
        expect(r.text).toBe(p.text)
        expect(Object.is(r.n, p.n) || r.n === p.n).toBe(true)
        expect(r.flag).toBe(p.flag)
        expect(r.nested_s).toBe(p.text)
        expect(r.nested_deep_k).toBe((p.nested as { deep: { k: number } }).deep.k)
      }
    }
    const weird = byId.get('t-100')!
    expect(weird['we"ird,key']).toBe(1)
    expect(weird['new\nline']).toBe('x')
    expect(weird.Amount).toBe(2)
    expect(byId.get('t-101')!.Amount).toBe(3)
    expect(byId.get('t-102')!.list).toBeUndefined()
  })

  it('reads events that another producer wrote to the topic as JSON', async () => {
    const dir = join(tmp, 'b')
    const { log } = await openEventLog(join(dir, 'log'), { partitions: 1 })
    const e = event(1, { text: 'from "elsewhere"', n: 2.5 })
    await log.append(TOPICS.events, 0, [{ key: partitionKey(e.tenant, e.user_id), value: Buffer.from(JSON.stringify(e)) }])
    await runSinkOnce(log, join(dir, 'wh'))
    await log.close()
    const rows = await query(join(dir, 'wh'), (from) => `SELECT * FROM ${from}`)
    expect(rows).toHaveLength(1)
    expect(rows[0]!.text).toBe('from "elsewhere"')
    expect(rows[0]!.n).toBe(2.5)
    expect(JSON.parse(String(rows[0]!.properties))).toEqual(e.properties)
  })
})
