import { Reader, readRecordsBatch } from '@platformatic/kafka'
import { RecordColumns } from '../record-columns.ts'
import type { AppendRecord, LogRecord, RecordBatch } from '../event-log.ts'

/*
 * Reading record batches (magic v2) straight from a fetch response's bytes. The client library
 * decodes every record of every batch it receives through a chunked reader (~3 µs a record here);
 * this reader walks one contiguous buffer, stops at the limits, decodes keys only when asked and
 * hands out values as views into the response, without copying them, or as columns of positions
 * in it (decodeRecordBatch), without even a view per record.
 *
 * Record time: our topics use message.timestamp.type=LogAppendTime, so the broker stamps every batch
 * with its arrival time and both its retention and our applyRetention() count age from arrival, as the
 * embedded log does. With CreateTime they would count from the event time we pass (an event's `ts`),
 * and a backfill of week-old events would be deleted by the broker minutes after it was accepted.
 * The time a caller gives travels in an 8-byte big-endian `ts` header instead (record-batch.ts writes
 * it) and comes back as the record's timestamp; records without one read back the broker's append time.
 */

const BATCH_HEADER = 61
const COMPRESSION = 0x07
const LOG_APPEND_TIME = 0x08
const IS_CONTROL = 0x20
const EMPTY = new Uint8Array(0)
const T = 0x74
const S = 0x73

/** Bytes a record adds to a produce request, near enough to keep batches under the broker's limit. */
export function recordSize(r: AppendRecord): number {
  return r.value.length + (r.key === null ? 0 : r.key.length * 3) + (r.timestamp === undefined ? 0 : 12) + 24
}

export interface DecodeLimits {
  from: number
  maxRecords: number
  maxBytes: number
  keys: boolean
}

export interface BatchSpan {
  first: number
  last: number
  /** Stored size: Kafka's own measure for retention.bytes (the 12-byte offset+length prefix included). */
  bytes: number
}

function int64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * 0x1_0000_0000 + buf.readUInt32BE(pos + 4)
}

/** Whole batches in `buf` (a fetch may end with a partial one, which is left out). */
export function batchSpans(buf: Buffer): BatchSpan[] {
  const spans: BatchSpan[] = []
  for (let pos = 0; pos + BATCH_HEADER <= buf.length;) {
    const size = 12 + buf.readInt32BE(pos + 8)
    if (pos + size > buf.length) break
    const first = int64(buf, pos)
    spans.push({ first, last: first + buf.readInt32BE(pos + 23), bytes: size })
    pos += size
  }
  return spans
}

/** Records at `from` or later, within the limits (always at least one when there is one). */
export function decodeRecords(buf: Buffer, limits: DecodeLimits): LogRecord[] {
  const columns = decodeColumns(buf, limits)
  const keys = columns.keys
  const c = columns.build()
  const out = new Array<LogRecord>(c.count)
  for (let i = 0; i < c.count; i++) {
    const chunk = c.chunks[c.chunkOf[i]!]!
    const value = c.starts[i] === c.ends[i] ? EMPTY : chunk.subarray(c.starts[i], c.ends[i])
    out[i] = { offset: c.offsets[i]!, key: keys === null ? null : keys[i]!, value, timestamp: c.timestamps[i]! }
  }
  return out
}

/**
 * The same records as decodeRecords, as columns (the engine's poll loop): an uncompressed batch's
 * values stay where they are in `buf` (one chunk for the whole response), so reading a record costs
 * no object and no Buffer view. Keys are never returned.
 */
export function decodeRecordBatch(buf: Buffer, limits: Omit<DecodeLimits, 'keys'>): RecordBatch {
  return decodeColumns(buf, { ...limits, keys: false }).build()
}

function decodeColumns(buf: Buffer, limits: DecodeLimits): Columns {
  // Sized for the records an uncompressed response can hold (a record takes at least 7 bytes), never
  // past maxRecords; a compressed batch may hold more, and the columns grow.
  const out = new Columns(Math.min(limits.maxRecords, Math.ceil(buf.length / 7) + 1), limits.keys)
  for (let pos = 0; pos + BATCH_HEADER <= buf.length;) {
    const size = 12 + buf.readInt32BE(pos + 8)
    if (pos + size > buf.length) break
    const base = int64(buf, pos)
    const attributes = buf.readInt16BE(pos + 21)
    const last = base + buf.readInt32BE(pos + 23)
    if ((attributes & IS_CONTROL) === 0 && last >= limits.from) {
      const done = (attributes & COMPRESSION) === 0 ? decodePlain(buf, pos, size, base, attributes, limits, out) : decodeCompressed(buf.subarray(pos, pos + size), limits, out)
      if (done) return out
    }
    pos += size
  }
  return out
}

/** Record columns being filled, with their value bytes so far; `keys` only when asked for. */
class Columns extends RecordColumns {
  bytes = 0
  readonly keys: Array<string | null> | null

  constructor(capacity: number, keys: boolean) {
    super(capacity)
    this.keys = keys ? [] : null
  }

  /** Adds a record whose value is bytes [start, end) of chunk `chunk`; true when a limit is reached. */
  add(offset: number, timestamp: number, chunk: number, start: number, end: number, limits: DecodeLimits): boolean {
    this.push(offset, timestamp, chunk, start, end)
    this.bytes += end - start
    return this.count >= limits.maxRecords || this.bytes >= limits.maxBytes
  }
}

/** Decodes one uncompressed batch; true when a limit was reached. */
function decodePlain(buf: Buffer, start: number, size: number, base: number, attributes: number, limits: DecodeLimits, out: Columns): boolean {
  const baseTime = int64(buf, start + 27)
  const appendTime = (attributes & LOG_APPEND_TIME) !== 0 ? int64(buf, start + 35) : null
  const count = buf.readInt32BE(start + 57)
  const end = start + size
  // The whole response is one chunk, added the first time one of its records is.
  if (out.chunks.length === 0 || out.chunks[out.chunks.length - 1] !== buf) out.chunks.push(buf)
  const chunk = out.chunks.length - 1
  let pos = start + BATCH_HEADER
  for (let i = 0; i < count && pos < end; i++) {
    let v = varint(buf, pos)
    const recordEnd = varPos + v
    pos = varPos + 1 // attributes
    const timeDelta = varlong(buf, pos)
    pos = varPos
    v = varint(buf, pos)
    const offset = base + v
    if (offset < limits.from) {
      pos = recordEnd
      continue
    }
    pos = varPos
    const keyLength = varint(buf, pos)
    pos = varPos
    if (out.keys !== null) out.keys.push(keyLength < 0 ? null : buf.toString('utf8', pos, pos + keyLength))
    if (keyLength > 0) pos += keyLength
    const valueLength = varint(buf, pos)
    pos = varPos
    const valueStart = pos
    if (valueLength > 0) pos += valueLength
    let timestamp = appendTime ?? baseTime + timeDelta
    const headers = varint(buf, pos)
    pos = varPos
    for (let h = 0; h < headers; h++) {
      const kl = varint(buf, pos)
      pos = varPos
      const isTime = kl === 2 && buf[pos] === T && buf[pos + 1] === S
      if (kl > 0) pos += kl
      const vl = varint(buf, pos)
      pos = varPos
      if (isTime && vl === 8) timestamp = int64(buf, pos)
      if (vl > 0) pos += vl
    }
    pos = recordEnd
    if (out.add(offset, timestamp, chunk, valueStart, valueStart + Math.max(0, valueLength), limits)) return true
  }
  return false
}

/** Compressed batches are rare here (our producer never compresses): the client library decodes them, each value its own chunk. */
function decodeCompressed(batch: Buffer, limits: DecodeLimits, out: Columns): boolean {
  const b = readRecordsBatch(Reader.from(batch))
  const base = Number(b.firstOffset)
  const appendTime = (b.attributes & LOG_APPEND_TIME) !== 0 ? Number(b.maxTimestamp) : null
  for (const r of b.records) {
    const offset = base + r.offsetDelta
    if (offset < limits.from) continue
    let timestamp = appendTime ?? Number(b.firstTimestamp) + Number(r.timestampDelta)
    for (const [k, v] of r.headers) if (k?.length === 2 && k[0] === T && k[1] === S && v?.length === 8) timestamp = int64(v, 0)
    const value = r.value ?? EMPTY
    out.keys?.push(r.key === null ? null : r.key.toString('utf8'))
    out.chunks.push(value)
    if (out.add(offset, timestamp, out.chunks.length - 1, 0, value.length, limits)) return true
  }
  return false
}

// Position after the last varint read: the decoder's hot loop avoids allocating a result pair.
let varPos = 0

/** Zigzag varint (int32). */
function varint(buf: Buffer, pos: number): number {
  let result = 0
  let shift = 0
  for (;;) {
    const b = buf[pos++]!
    result |= (b & 0x7f) << shift
    if (b < 0x80) break
    shift += 7
  }
  varPos = pos
  return (result >>> 1) ^ -(result & 1)
}

/** Zigzag varlong, exact up to 2^53. */
function varlong(buf: Buffer, pos: number): number {
  let result = 0
  let scale = 1
  for (;;) {
    const b = buf[pos++]!
    result += (b & 0x7f) * scale
    if (b < 0x80) break
    scale *= 128
  }
  varPos = pos
  return result % 2 === 0 ? result / 2 : -(result + 1) / 2
}
