import { createRecordsBatch } from '@platformatic/kafka'
import { describe, expect, it } from 'vitest'
import type { AppendRecord } from '../../src/log/event-log.ts'
import { encodeRecordBatch, nextSequence } from '../../src/log/kafka/record-batch.ts'
import { batchValue } from '../../src/log/read-batch.ts'
import { batchSpans, decodeRecordBatch, decodeRecords } from '../../src/log/kafka/records.ts'
import { ResponseBytes } from '../../src/log/kafka/response-bytes.ts'

/** Gives a batch the base offset a broker would have assigned. */
function at(base: number, batch: Buffer): Buffer {
  batch.writeBigInt64BE(BigInt(base), 0)
  return batch
}

const all = { from: 0, maxRecords: 1e9, maxBytes: 1e12, keys: true }
const id = { producerId: 42n, producerEpoch: 3 }

describe('Kafka record batches (our encoder and reader, no broker)', () => {
  const records: AppendRecord[] = [
    { key: 'default:17', value: Buffer.from('{"a":1}'), timestamp: 1_700_000_000_123 },
    { key: null, value: Buffer.from('no key') },
    { key: '', value: new Uint8Array(0) },
    { key: 'ü:ß☃', value: Buffer.from([0, 255, 1]), timestamp: 0 },
    { key: 'k'.repeat(200), value: Buffer.alloc(5_000, 7), timestamp: 1 },
  ]

  it('round-trips keys, values and caller timestamps at the broker-assigned offsets', () => {
    const buf = at(1_000, encodeRecordBatch(records, id, 5, 1_800_000_000_000))
    const got = decodeRecords(buf, all)
    expect(got.map((r) => [r.offset, r.key, Buffer.from(r.value).toString('hex'), r.timestamp])).toEqual(
      records.map((r, i) => [1_000 + i, r.key, Buffer.from(r.value).toString('hex'), r.timestamp ?? 1_800_000_000_000]),
    )
    expect(batchSpans(buf)).toEqual([{ first: 1_000, last: 1_004, bytes: buf.length }])
  })

  it('reads from the middle of a batch, across batches, within maxRecords and maxBytes, keys left out on request', () => {
    const buf = Buffer.concat([at(0, encodeRecordBatch(records, id, 0, 1)), at(5, encodeRecordBatch(records, id, 5, 2))])
    expect(decodeRecords(buf, { ...all, from: 3 }).map((r) => r.offset)).toEqual([3, 4, 5, 6, 7, 8, 9])
    expect(decodeRecords(buf, { ...all, from: 3, maxRecords: 3 }).map((r) => r.offset)).toEqual([3, 4, 5])
    expect(decodeRecords(buf, { ...all, from: 4, maxBytes: 1 }).map((r) => r.offset)).toEqual([4])
    expect(decodeRecords(buf, { ...all, keys: false }).every((r) => r.key === null)).toBe(true)
    // A response cut inside its last batch: only whole batches are read.
    expect(decodeRecords(buf.subarray(0, buf.length - 10), all).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4])
  })

  it('reads batches written by another client, compressed, with CreateTime timestamps', () => {
    const messages = [
      { topic: 't', partition: 0, key: Buffer.from('a'), value: Buffer.from('one'), timestamp: 1_600_000_000_000n },
      { topic: 't', partition: 0, key: Buffer.from('b'), value: Buffer.from('two'), timestamp: 1_600_000_000_500n, headers: new Map([[Buffer.from('x'), Buffer.from('y')]]) },
    ]
    for (const compression of ['none', 'gzip'] as const) {
      const buf = at(7, Buffer.from(createRecordsBatch(messages, { compression, producerId: -1n, producerEpoch: 0, sequences: undefined, partitionLeaderEpoch: 0 } as never).buffer))
      expect(decodeRecords(buf, all).map((r) => [r.offset, r.key, Buffer.from(r.value).toString(), r.timestamp])).toEqual([
        [7, 'a', 'one', 1_600_000_000_000],
        [8, 'b', 'two', 1_600_000_000_500],
      ])
    }
  })

  it('reads the same records as columns, plain batches as positions in the response itself', () => {
    const plain = Buffer.concat([at(0, encodeRecordBatch(records, id, 0, 1)), at(5, encodeRecordBatch(records, id, 5, 2))])
    const messages = [1, 2, 3].map((i) => ({ topic: 't', partition: 0, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), timestamp: BigInt(1_600_000_000_000 + i) }))
    const gzip = at(10, Buffer.from(createRecordsBatch(messages, { compression: 'gzip', producerId: -1n, producerEpoch: 0, sequences: undefined, partitionLeaderEpoch: 0 } as never).buffer))
    const buf = Buffer.concat([plain, gzip])
    const columns = (limits: Partial<typeof all>) => {
      const b = decodeRecordBatch(buf, { ...all, ...limits })
      return Array.from({ length: b.count }, (_, i) => [b.offsets[i], Buffer.from(batchValue(b, i)).toString('hex'), b.timestamps[i]])
    }
    const rows = (limits: Partial<typeof all>) => decodeRecords(buf, { ...all, ...limits }).map((r) => [r.offset, Buffer.from(r.value).toString('hex'), r.timestamp])
    for (const limits of [{}, { from: 3 }, { from: 3, maxRecords: 3 }, { from: 4, maxBytes: 1 }, { from: 9 }, { from: 11, maxRecords: 1 }, { from: 13 }]) {
      expect(columns(limits), JSON.stringify(limits)).toEqual(rows(limits))
    }
    expect(columns({}).length).toBe(13)
    const b = decodeRecordBatch(plain, all)
    expect(b.chunks).toEqual([plain])
    expect(b.chunks[0]).toBe(plain)
  })

  it('reads a response the socket delivered in pieces as it reads it joined, records cut between two pieces included', () => {
    // Three batches of records whose sizes cross every varint width, a gzip batch among them.
    let seed = 7
    const rand = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31), seed % n)
    const many = (n: number): AppendRecord[] =>
      Array.from({ length: n }, (_, i) => ({
        key: i % 5 === 0 ? null : `k${i}`,
        value: Buffer.alloc(rand(i % 17 === 0 ? 20_000 : 300), i % 251),
        timestamp: i % 3 === 0 ? undefined : 1_700_000_000_000 + i,
      }))
    const gzip = Buffer.from(
      createRecordsBatch([{ topic: 't', partition: 0, key: Buffer.from('z'), value: Buffer.alloc(3_000, 9) }], {
        compression: 'gzip',
        producerId: -1n,
        producerEpoch: 0,
        sequences: undefined,
        partitionLeaderEpoch: 0,
      } as never).buffer,
    )
    const whole = Buffer.concat([at(0, encodeRecordBatch(many(300), id, 0, 5)), at(300, gzip), at(301, encodeRecordBatch(many(200), id, 301, 6)), at(501, encodeRecordBatch(many(40), id, 501, 7))])
    const rows = (b: Buffer | ResponseBytes, limits: Partial<typeof all>) => decodeRecords(b, { ...all, ...limits }).map((r) => [r.offset, r.key, Buffer.from(r.value).toString('base64'), r.timestamp])
    const columns = (b: Buffer | ResponseBytes, limits: Partial<typeof all>) => {
      const c = decodeRecordBatch(b, { ...all, ...limits })
      return Array.from({ length: c.count }, (_, i) => [c.offsets[i], Buffer.from(batchValue(c, i)).toString('base64'), c.timestamps[i]])
    }
    const limitsToTry = [{}, { from: 150 }, { from: 299, maxRecords: 3 }, { from: 320, maxBytes: 10_000 }, { from: 540 }]
    // Cut points: 1-byte pieces at the start and around batch and record boundaries, then 64 KiB-ish reads.
    for (const sizes of [[1, 1, 1, 60, 1, 2, 3, 4, 5, 65_536], [61, 9, 65_536], [4_096], [65_536], [rand(300) + 1, 17, 70_000], [whole.length - 10, 10]]) {
      const pieces: Buffer[] = []
      for (let pos = 0, k = 0; pos < whole.length; k++) {
        const n = sizes[Math.min(k, sizes.length - 1)]!
        pieces.push(Buffer.from(whole.subarray(pos, pos + n))) // copies: no piece shares memory with `whole`
        pos += n
      }
      const split = ResponseBytes.of(pieces)
      expect(split.length).toBe(whole.length)
      expect(batchSpans(split)).toEqual(batchSpans(whole))
      for (const limits of limitsToTry) {
        expect(rows(split, limits), JSON.stringify({ sizes, limits })).toEqual(rows(whole, limits))
        expect(columns(split, limits), JSON.stringify({ sizes, limits })).toEqual(columns(whole, limits))
      }
      // A response read from the middle of a batch on, as the fetcher serves what it read ahead.
      const second = batchSpans(whole)[1]!
      const rest = split.from(
        whole.length -
          batchSpans(whole)
            .slice(1)
            .reduce((a, s) => a + s.bytes, 0),
      )
      expect(rows(rest, {})[0]![0]).toBe(second.first)
      expect(rows(rest, {})).toEqual(rows(whole, { from: second.first }))
    }
    // Two pieces cut at every byte of the first records: inside a record's length, key, value, headers.
    for (let k = 1; k < 1_500; k++) {
      expect(rows(ResponseBytes.of([whole.subarray(0, k), whole.subarray(k)]), {}), `cut at ${k}`).toEqual(rows(whole, {}))
    }
    // Cut short inside the last batch: only whole batches are read, as from one Buffer.
    const cut = ResponseBytes.of([whole.subarray(0, 50_000), whole.subarray(50_000, whole.length - 10)])
    expect(rows(cut, {})).toEqual(rows(whole.subarray(0, whole.length - 10), {}))
  })

  it('refuses a damaged record with an error instead of reading past it forever or allocating what its length claims', () => {
    const records: AppendRecord[] = Array.from({ length: 3 }, (_, i) => ({ key: `k${i}`, value: Buffer.alloc(50, i), timestamp: 1 }))
    // The first record's length (at the batch's 61st byte): a varint that never ends, then a length past the batch.
    const endless = at(0, encodeRecordBatch(records, id, 0, 1))
    endless.fill(0xff, 61, 75)
    const huge = at(0, encodeRecordBatch(records, id, 0, 1))
    huge.set([0xfe, 0xff, 0xff, 0xff, 0x07], 61) // zigzag 2^31 - 1 bytes
    for (const bad of [endless, huge]) {
      for (const bytes of [bad, ResponseBytes.of([bad.subarray(0, 63), bad.subarray(63)])]) {
        expect(() => decodeRecords(bytes, all)).toThrow(/malformed record batch/)
        expect(() => decodeRecordBatch(bytes, all)).toThrow(/malformed record batch/)
      }
    }
  })

  it('wraps producer sequences the way the broker expects', () => {
    expect(nextSequence(10, 5)).toBe(15)
    expect(nextSequence(0x7fffffff - 2, 2)).toBe(0x7fffffff)
    expect(nextSequence(0x7fffffff - 2, 5)).toBe(2)
  })
})
