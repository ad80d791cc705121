import { crc32c } from '@platformatic/kafka'
import type { AppendRecord } from '../event-log.ts'
import { ATTRIBUTES_AT, BATCH_HEADER, IS_TRANSACTIONAL } from './batch-layout.ts'

/*
 * Kafka's record batch (magic v2), written in one pass into one buffer. The client library builds a
 * writer per record, which cost ~12 µs a record here and made it the collector's bottleneck; this
 * encoder sizes the batch first, allocates once and copies keys and values straight in.
 * Layout: https://kafka.apache.org/documentation/#recordbatch
 */

export interface ProducerIdentity {
  producerId: bigint
  producerEpoch: number
}

const TIME_HEADER_KEY = Buffer.from('ts')
// One header: key length 2, "ts", value length 8, 8 bytes.
const TIME_BATCH_HEADER = 1 + 2 + 1 + 8

/** Bytes of a zigzag varint (records use signed varints throughout). */
function varintSize(n: number): number {
  let v = ((n << 1) ^ (n >> 31)) >>> 0
  let size = 1
  while (v >= 0x80) {
    v >>>= 7
    size++
  }
  return size
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  let v = ((n << 1) ^ (n >> 31)) >>> 0
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80
    v >>>= 7
  }
  buf[pos++] = v
  return pos
}

/**
 * One batch of `records` for an idempotent producer: offsets 0..n-1 relative to whatever base the
 * broker assigns, record time = now (our topics use LogAppendTime anyway; a caller's time travels in
 * the `ts` header, see records.ts).
 */
export function encodeRecordBatch(records: readonly AppendRecord[], id: ProducerIdentity, baseSequence: number, now: number, transactional = false): Buffer {
  const n = records.length
  const keyBytes = new Int32Array(n)
  const bodies = new Int32Array(n)
  let total = BATCH_HEADER
  for (let i = 0; i < n; i++) {
    const r = records[i]!
    const key = r.key === null ? -1 : Buffer.byteLength(r.key)
    keyBytes[i] = key
    const headers = r.timestamp === undefined ? 1 : 1 + TIME_BATCH_HEADER
    // attributes, timestampDelta (0), offsetDelta, key, value, headers
    const body = 1 + 1 + varintSize(i) + varintSize(key) + Math.max(0, key) + varintSize(r.value.length) + r.value.length + headers
    bodies[i] = body
    total += varintSize(body) + body
  }

  const buf = Buffer.allocUnsafe(total)
  buf.writeBigInt64BE(0n, 0) // base offset: the broker assigns it
  buf.writeInt32BE(total - 12, 8) // batch length
  buf.writeInt32BE(-1, 12) // partition leader epoch
  buf.writeInt8(2, 16) // magic
  buf.writeInt16BE(transactional ? IS_TRANSACTIONAL : 0, ATTRIBUTES_AT) // attributes: no compression, CreateTime (the topic overrides)
  buf.writeInt32BE(n - 1, 23) // last offset delta
  buf.writeBigInt64BE(BigInt(now), 27) // base timestamp
  buf.writeBigInt64BE(BigInt(now), 35) // max timestamp
  buf.writeBigInt64BE(id.producerId, 43)
  buf.writeInt16BE(id.producerEpoch, 51)
  buf.writeInt32BE(baseSequence, 53)
  buf.writeInt32BE(n, 57)

  let pos = BATCH_HEADER
  for (let i = 0; i < n; i++) {
    const r = records[i]!
    pos = writeVarint(buf, pos, bodies[i]!)
    buf[pos++] = 0 // record attributes
    buf[pos++] = 0 // timestamp delta
    pos = writeVarint(buf, pos, i)
    const key = keyBytes[i]!
    pos = writeVarint(buf, pos, key)
    if (key > 0) pos += buf.write(r.key!, pos, key, 'utf8')
    pos = writeVarint(buf, pos, r.value.length)
    buf.set(r.value, pos)
    pos += r.value.length
    if (r.timestamp === undefined) {
      buf[pos++] = 0 // no headers
    } else {
      buf[pos++] = 2 // one header (zigzag 1)
      buf[pos++] = 4 // key length 2
      TIME_HEADER_KEY.copy(buf, pos)
      pos += 2
      buf[pos++] = 16 // value length 8
      writeInt64(buf, pos, Math.trunc(r.timestamp))
      pos += 8
    }
  }
  buf.writeUInt32BE(crc32c(buf.subarray(21)), 17)
  return buf
}

/** An int64 from a safe integer without a BigInt per record (the hot path writes one per event). */
function writeInt64(buf: Buffer, pos: number, n: number): void {
  if (n >= 0 && n <= Number.MAX_SAFE_INTEGER) {
    buf.writeUInt32BE(Math.floor(n / 0x1_0000_0000), pos)
    buf.writeUInt32BE(n >>> 0, pos + 4)
  } else {
    buf.writeBigInt64BE(BigInt(n), pos)
  }
}

/** The sequence after `count` records from `sequence`; Kafka wraps sequences to 0 past 2^31 - 1. */
export function nextSequence(sequence: number, count: number): number {
  const max = 0x7fffffff
  return sequence > max - count ? count - (max - sequence) - 1 : sequence + count
}
