import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { appendFramed, FramedRecords } from '../../src/log/framed.ts'
import { DEFAULT_RETENTION, type AppendRecord, type EventLog, type LogRecord, type RecordBatch, type RetentionPolicy } from '../../src/log/event-log.ts'

const DAY = 86_400_000
import { batchValue, readRecordBatch } from '../../src/log/read-batch.ts'

/**
 * The EventLog contract: every adapter's test file calls this with a factory, so the embedded log
 * and the Kafka log cannot drift apart.
 */
export interface EventLogHarness {
  /** Opens a log on fresh, empty storage. */
  open(policy?: Partial<RetentionPolicy>): Promise<EventLog>
  /** Opens the same storage again after close(), to check persistence. */
  reopen(policy?: Partial<RetentionPolicy>): Promise<EventLog>
  /** Whether applyRetention() deletes by age and size here (a broker may do it on its own schedule). */
  retention: boolean
  cleanup(): Promise<void>
}

const enc = new TextEncoder()
const dec = new TextDecoder()
const rec = (key: string | null, value: string, timestamp?: number): AppendRecord => (timestamp === undefined ? { key, value: enc.encode(value) } : { key, value: enc.encode(value), timestamp })
const text = (r: { value: Uint8Array }) => dec.decode(r.value)
/** A batch's records as read() would give them (keys left out). */
const recordsOf = (b: RecordBatch): LogRecord[] =>
  Array.from({ length: b.count }, (_, i) => ({ offset: b.offsets[i]!, key: null, value: new Uint8Array(batchValue(b, i)), timestamp: b.timestamps[i]! }))
const plain = (rs: readonly LogRecord[]) => rs.map((r) => ({ ...r, value: new Uint8Array(r.value) }))
const batch = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => rec(`k${i % 7}`, `${prefix}-${i}`))

export function runEventLogContract(name: string, harness: () => EventLogHarness): void {
  describe(`EventLog contract: ${name}`, () => {
    let h: EventLogHarness
    let log: EventLog

    beforeEach(async () => {
      h = harness()
      log = await h.open()
    })
    afterEach(async () => {
      await log.close()
      await h.cleanup()
    })

    it('creates topics once and reports their partition count', async () => {
      expect(await log.partitionCount('t')).toBeNull()
      expect(await log.createTopic('t', { partitions: 3 })).toBe(3)
      expect(await log.createTopic('t', { partitions: 5 })).toBe(3)
      expect(await log.partitionCount('t')).toBe(3)
      expect(await log.offsets('t', 2)).toEqual({ start: 0, end: 0 })
    })

    it('appends batches at contiguous offsets and reads them back exactly', async () => {
      await log.createTopic('t', { partitions: 2 })
      const a = await log.append('t', 1, [rec('u:1', 'a', 1_700_000_000_123), rec(null, 'b'), rec('', '')])
      const b = await log.append('t', 1, [rec('ü:ß', '{"x":"☃"}')])
      expect(a).toEqual({ baseOffset: 0, count: 3 })
      expect(b).toEqual({ baseOffset: 3, count: 1 })
      const got = await log.read('t', 1, 0)
      expect(got.map((r) => [r.offset, r.key, text(r)])).toEqual([
        [0, 'u:1', 'a'],
        [1, null, 'b'],
        [2, '', ''],
        [3, 'ü:ß', '{"x":"☃"}'],
      ])
      expect(got[0]!.timestamp).toBe(1_700_000_000_123)
      expect(got[1]!.timestamp).toBeGreaterThan(Date.now() - 60_000)
      expect(await log.offsets('t', 1)).toEqual({ start: 0, end: 4 })
      expect(await log.read('t', 0, 0)).toEqual([])
    })

    it('appends framed records (appendFramed, or its fallback) as append does, in call order with plain appends', async () => {
      await log.createTopic('t', { partitions: 2 })
      const frame = new FramedRecords(64)
      for (const r of [rec('u:1', 'a', 1_700_000_000_123), rec(null, 'b', 1_700_000_000_124), rec('ü:ß', '{"x":"☃"}', 1_700_000_000_125)]) frame.add(r, 0)
      const first = appendFramed(log, 't', 0, frame)
      const second = log.append('t', 0, [rec('u:2', 'c', 1_700_000_000_126)])
      expect(await first).toEqual({ baseOffset: 0, count: 3 })
      expect(await second).toEqual({ baseOffset: 3, count: 1 })
      const got = await log.read('t', 0, 0)
      expect(got.map((r) => [r.offset, r.key, text(r), r.timestamp])).toEqual([
        [0, 'u:1', 'a', 1_700_000_000_123],
        [1, null, 'b', 1_700_000_000_124],
        [2, 'ü:ß', '{"x":"☃"}', 1_700_000_000_125],
        [3, 'u:2', 'c', 1_700_000_000_126],
      ])
    })

    it('leaves keys out when asked, for readers that never use them', async () => {
      await log.createTopic('t', { partitions: 1 })
      await log.append('t', 0, [rec('u:1', 'a')])
      const [r] = await log.read('t', 0, 0, { keys: false })
      expect(r!.key).toBeNull()
      expect(text(r!)).toBe('a')
    })

    it('keeps binary values intact', async () => {
      await log.createTopic('t', { partitions: 1 })
      const value = new Uint8Array(300).map((_, i) => i % 256)
      await log.append('t', 0, [{ key: 'k', value }])
      const [r] = await log.read('t', 0, 0)
      expect(Buffer.from(r!.value).equals(Buffer.from(value))).toBe(true)
    })

    it('reads from the middle of a batch and honours maxRecords and maxBytes', async () => {
      await log.createTopic('t', { partitions: 1 })
      await log.append('t', 0, batch('a', 100))
      await log.append('t', 0, batch('b', 100))
      const mid = await log.read('t', 0, 150, { maxRecords: 10 })
      expect(mid.map((r) => r.offset)).toEqual(Array.from({ length: 10 }, (_, i) => 150 + i))
      expect(text(mid[0]!)).toBe('b-50')
      const one = await log.read('t', 0, 5, { maxBytes: 1 })
      expect(one.length).toBeGreaterThanOrEqual(1)
      expect(one[0]!.offset).toBe(5)
      const all = await log.read('t', 0, 0, { maxRecords: 1_000 })
      expect(all.map((r) => r.offset)).toEqual(Array.from({ length: 200 }, (_, i) => i))
    })

    it('reads the same records as columns (readBatch, or its fallback on read())', async () => {
      await log.createTopic('t', { partitions: 2 })
      const binary = new Uint8Array(300).map((_, i) => (i * 7) % 256)
      await log.append('t', 1, [rec('u:1', 'a', 1_700_000_000_123), rec(null, ''), { key: 'b', value: binary, timestamp: 1_700_000_000_456 }])
      await log.append('t', 1, batch('b', 100))
      await log.append('t', 1, batch('c', 100))
      for (const [offset, options] of [
        [0, {}],
        [50, { maxRecords: 10 }],
        [3, { maxRecords: 1_000 }],
        [120, { maxRecords: 150 }],
        [7, { maxBytes: 1 }],
      ] as const) {
        const got = recordsOf(await readRecordBatch(log, 't', 1, offset, options))
        expect(got.length, `from ${offset}`).toBeGreaterThan(0)
        expect(got, `from ${offset}`).toEqual(plain(await log.read('t', 1, offset, { ...options, keys: false })))
      }
      const first = await readRecordBatch(log, 't', 1, 0, { maxRecords: 3 })
      expect(first.count).toBe(3)
      expect(Array.from(first.offsets)).toEqual([0, 1, 2])
      expect(first.timestamps[0]).toBe(1_700_000_000_123)
      expect(Buffer.from(batchValue(first, 2)).equals(Buffer.from(binary))).toBe(true)
      expect(batchValue(first, 1).byteLength).toBe(0)
      const mid = await readRecordBatch(log, 't', 1, 150, { maxRecords: 10 })
      expect(Array.from(mid.offsets)).toEqual(Array.from({ length: 10 }, (_, i) => 150 + i))
      expect(dec.decode(batchValue(mid, 0))).toBe('c-47')
      expect((await readRecordBatch(log, 't', 1, 203)).count).toBe(0)
      expect((await readRecordBatch(log, 't', 0, 0)).count).toBe(0)
      const waiting = readRecordBatch(log, 't', 0, 0, { maxWaitMs: 10_000 })
      await new Promise((r) => setTimeout(r, 50))
      await log.append('t', 0, [rec('k', 'late')])
      expect(recordsOf(await waiting).map(text)).toEqual(['late'])
      await expect(readRecordBatch(log, 't', 9, 0)).rejects.toThrow(/unknown/)
    })

    it('returns nothing at the end, and wakes a waiting reader on append', async () => {
      await log.createTopic('t', { partitions: 1 })
      await log.append('t', 0, batch('a', 2))
      expect(await log.read('t', 0, 2)).toEqual([])
      expect(await log.read('t', 0, 99)).toEqual([])
      const t0 = Date.now()
      expect(await log.read('t', 0, 2, { maxWaitMs: 150 })).toEqual([])
      expect(Date.now() - t0).toBeGreaterThanOrEqual(100)
      const waiting = log.read('t', 0, 2, { maxWaitMs: 10_000 })
      await new Promise((r) => setTimeout(r, 50))
      await log.append('t', 0, [rec('k', 'late')])
      const got = await waiting
      expect(got.map(text)).toEqual(['late'])
    })

    it('keeps order and contiguity under concurrent appends', async () => {
      await log.createTopic('t', { partitions: 4 })
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => log.append('t', i % 4, batch(`c${i}`, 25))))
      for (let p = 0; p < 4; p++) {
        const mine = results
          .filter((_, i) => i % 4 === p)
          .map((r) => r.baseOffset)
          .sort((x, y) => x - y)
        expect(mine).toEqual(Array.from({ length: 10 }, (_, i) => i * 25))
        const got = await log.read('t', p, 0, { maxRecords: 1_000 })
        expect(got.map((r) => r.offset)).toEqual(Array.from({ length: 250 }, (_, i) => i))
        for (let i = 0; i < 40; i++) {
          if (i % 4 !== p) continue
          const base = results[i]!.baseOffset
          expect(got.slice(base, base + 25).map(text)).toEqual(Array.from({ length: 25 }, (_, j) => `c${i}-${j}`))
        }
      }
    })

    it('gives appends to one partition offsets in call order, even before it has looked the topic up', async () => {
      await log.createTopic('t', { partitions: 2 })
      await log.close()
      // A fresh instance has not seen the topic yet: its first appends must still keep call order.
      log = await h.open()
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => log.append('t', 1, batch(`o${i}`, 1 + (i % 3)))))
      let expected = 0
      for (const [i, r] of results.entries()) {
        expect(r.baseOffset).toBe(expected)
        expected += 1 + (i % 3)
      }
      const got = await log.read('t', 1, 0, { maxRecords: 100 })
      expect(got.map(text)).toEqual(Array.from({ length: 12 }, (_, i) => Array.from({ length: 1 + (i % 3) }, (_, j) => `o${i}-${j}`)).flat())
    })

    it('rejects unknown topics and partitions', async () => {
      await log.createTopic('t', { partitions: 2 })
      await expect(log.append('nope', 0, batch('a', 1))).rejects.toThrow(/unknown/)
      await expect(log.append('t', 2, batch('a', 1))).rejects.toThrow(/unknown partition 2/)
      await expect(log.read('t', 9, 0)).rejects.toThrow(/unknown/)
    })

    it('stores committed offsets per consumer group', async () => {
      await log.createTopic('t', { partitions: 2 })
      expect(await log.committed('g1', 't', 0)).toBeNull()
      await log.commit('g1', 't', 0, 42)
      await log.commit('g2', 't', 0, 7)
      await log.commit('g1', 't', 1, 3)
      await log.commit('g1', 't', 0, 43)
      expect(await log.committed('g1', 't', 0)).toBe(43)
      expect(await log.committed('g2', 't', 0)).toBe(7)
      expect(await log.committed('g1', 't', 1)).toBe(3)
      expect(await log.committed('g2', 't', 1)).toBeNull()
    })

    it('keeps records, offsets and committed offsets across a restart', async () => {
      await log.createTopic('t', { partitions: 2 })
      await log.append('t', 0, batch('a', 10))
      await log.append('t', 1, batch('b', 5))
      await log.commit('g', 't', 0, 6)
      await log.close()
      log = await h.reopen()
      expect(await log.partitionCount('t')).toBe(2)
      expect(await log.offsets('t', 0)).toEqual({ start: 0, end: 10 })
      expect(await log.committed('g', 't', 0)).toBe(6)
      expect((await log.append('t', 1, batch('c', 1))).baseOffset).toBe(5)
      expect((await log.read('t', 1, 0)).map(text)).toEqual([...batch('b', 5).map((r) => dec.decode(r.value)), 'c-0'])
    })

    it('removes old records by age, keeps offsets monotonic, and reads from the new start', async ({ skip }) => {
      if (!h.retention) skip()
      await log.createTopic('t', { partitions: 1 })
      await log.append('t', 0, batch('old', 10))
      const r = await log.applyRetention(Date.now() + 4 * 24 * 3_600_000)
      expect(r.deletedRecords).toBe(10)
      expect(await log.offsets('t', 0)).toEqual({ start: 10, end: 10 })
      expect(await log.read('t', 0, 0)).toEqual([])
      expect((await log.append('t', 0, batch('new', 2))).baseOffset).toBe(10)
      expect((await log.read('t', 0, 0)).map((x) => x.offset)).toEqual([10, 11])
      expect(Array.from((await readRecordBatch(log, 't', 0, 0)).offsets)).toEqual([10, 11])
      await log.close()
      log = await h.reopen()
      expect(await log.offsets('t', 0)).toEqual({ start: 10, end: 12 })
      expect((await log.append('t', 0, batch('newer', 1))).baseOffset).toBe(12)
    })

    it('removes records by whole days of append time: a day goes at its 00:00 UTC plus the age limit', async ({ skip }) => {
      if (!h.retention) skip()
      await log.createTopic('t', { partitions: 1 })
      const before = Date.now()
      await log.append('t', 0, batch('today', 3))
      const day = Math.floor(Date.now() / DAY)
      if (Math.floor(before / DAY) !== day) return // appended across midnight: run again
      const expires = (day + DEFAULT_RETENTION.retentionMs / DAY) * DAY
      expect((await log.applyRetention(expires - 1)).deletedRecords).toBe(0)
      expect(await log.offsets('t', 0)).toEqual({ start: 0, end: 3 })
      expect((await log.applyRetention(expires)).deletedRecords).toBe(3)
      expect(await log.offsets('t', 0)).toEqual({ start: 3, end: 3 })
    })

    it('keeps fresh records and removes the oldest beyond the size limit', async ({ skip }) => {
      if (!h.retention) skip()
      await log.close()
      log = await h.reopen({ retentionBytes: 2_500 })
      await log.createTopic('t', { partitions: 1 })
      for (let i = 0; i < 10; i++) await log.append('t', 0, [rec('k', 'x'.repeat(1_000))])
      expect((await log.applyRetention()).deletedRecords).toBeGreaterThanOrEqual(7)
      const { start, end } = await log.offsets('t', 0)
      expect(end).toBe(10)
      expect(start).toBeGreaterThanOrEqual(7)
      expect(start).toBeLessThan(10)
      expect((await log.read('t', 0, 0))[0]!.offset).toBe(start)
      expect((await log.applyRetention()).deletedRecords).toBe(0)
    })
  })
}
