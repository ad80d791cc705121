import { Reader, readRecordsBatch } from '@platformatic/kafka'
import { RecordColumns } from '../record-columns.ts'
import type { AppendRecord, LogRecord, RecordBatch } from '../event-log.ts'
import { int64, responseBytes, ResponseBytes } from './response-bytes.ts'
import { BATCH_HEADER, COMPRESSION, IS_CONTROL, LOG_APPEND_TIME } from './batch-layout.ts'

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

const EMPTY = new Uint8Array(0)
const EMPTY_BUFFER = Buffer.alloc(0)
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

/** Whole batches in `buf` (a fetch may end with a partial one, which is left out). */
export function batchSpans(buf: Buffer | ResponseBytes): BatchSpan[] {
  const bytes = responseBytes(buf)
  const spans: BatchSpan[] = []
  for (let pos = 0; pos + BATCH_HEADER <= bytes.length;) {
    const size = 12 + bytes.int32(pos + 8)
    if (pos + size > bytes.length) break
    const first = bytes.int64(pos)
    spans.push({ first, last: first + bytes.int32(pos + 23), bytes: size })
    pos += size
  }
  return spans
}

/** Records at `from` or later, within the limits (always at least one when there is one). */
export function decodeRecords(buf: Buffer | ResponseBytes, limits: DecodeLimits): LogRecord[] {
  const columns = decodeColumns(responseBytes(buf), limits.from, limits.maxRecords, limits.maxBytes, limits.keys)
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
 * The same records as decodeRecords, as columns (the engine's poll loop): an uncompressed record's
 * value stays where it is in the response (one chunk per socket buffer), so reading a record costs
 * no object and no Buffer view. Keys are never returned.
 */
export function decodeRecordBatch(buf: Buffer | ResponseBytes, limits: Omit<DecodeLimits, 'keys'>): RecordBatch {
  return decodeColumns(responseBytes(buf), limits.from, limits.maxRecords, limits.maxBytes, false).build()
}

function decodeColumns(bytes: ResponseBytes, from: number, maxRecords: number, maxBytes: number, keys: boolean): Columns {
  // Sized for the records an uncompressed response can hold (a record takes at least 7 bytes), never
  // past maxRecords; a compressed batch may hold more, and the columns grow.
  const out = new Columns(Math.min(maxRecords, Math.ceil(bytes.length / 7) + 1), from, maxRecords, maxBytes, keys)
  for (let pos = 0; pos + BATCH_HEADER <= bytes.length;) {
    const size = 12 + bytes.int32(pos + 8)
    if (pos + size > bytes.length) break
    const base = bytes.int64(pos)
    const attributes = bytes.int16(pos + 21)
    const last = base + bytes.int32(pos + 23)
    if ((attributes & IS_CONTROL) === 0 && last >= from) {
      const done = (attributes & COMPRESSION) === 0 ? decodePlain(bytes, pos, size, base, attributes, out) : decodeCompressed(bytes.bytes(pos, size), out)
      if (done) return out
    }
    pos += size
  }
  return out
}

/**
 * Record columns being filled, with their value bytes so far and the limits they are filled to;
 * `keys` only when asked for. The limits are fields here, not an object the decoder is handed:
 * callers' limit objects came in several shapes, and each new one deoptimized the decoding loop
 * (4 recompilations of it in a 3-second catch-up).
 */
class Columns extends RecordColumns {
  bytes = 0
  readonly keys: Array<string | null> | null

  constructor(
    capacity: number,
    /** Records before this offset are skipped. */
    readonly from: number,
    private readonly maxRecords: number,
    private readonly maxBytes: number,
    keys: boolean,
  ) {
    super(capacity)
    this.keys = keys ? [] : null
  }

  /** Adds a record whose value is bytes [start, end) of chunk `chunk`; true when a limit is reached. */
  add(offset: number, timestamp: number, chunk: number, start: number, end: number): boolean {
    this.push(offset, timestamp, chunk, start, end)
    this.bytes += end - start
    return this.count >= this.maxRecords || this.bytes >= this.maxBytes
  }

  /** The index of `b` among the chunks, added when it is not the last one added. */
  chunkIndex(b: Buffer): number {
    if (this.chunks.length === 0 || this.chunks[this.chunks.length - 1] !== b) this.chunks.push(b)
    return this.chunks.length - 1
  }
}

/**
 * Decodes one uncompressed batch at `start` of the response; true when a limit was reached. Records
 * are read in place in the socket buffer holding them; one cut by the end of a buffer (about one in
 * 750 of ours) is copied out whole first.
 */
function decodePlain(bytes: ResponseBytes, start: number, size: number, base: number, attributes: number, out: Columns): boolean {
  const baseTime = bytes.int64(start + 27)
  const appendTime = (attributes & LOG_APPEND_TIME) !== 0 ? bytes.int64(start + 35) : null
  const count = bytes.int32(start + 57)
  const end = start + size
  let pos = start + BATCH_HEADER
  let buf: Buffer = EMPTY_BUFFER
  let bufStart = 0
  let bufEnd = 0
  for (let i = 0; i < count && pos < end; i++) {
    if (pos >= bufEnd) {
      const b = bytes.bufferAt(pos)
      buf = bytes.buffers[b]!
      bufStart = bytes.startOf(b)
      bufEnd = bufStart + buf.length
    }
    // The record's length: a varint of up to 5 bytes, read in place unless the buffer ends within them.
    let length: number
    let body: number
    if (pos + 5 <= bufEnd) {
      length = varint(buf, pos - bufStart)
      body = varPos + bufStart
    } else {
      const head = bytes.bytes(pos, Math.min(5, end - pos))
      length = varint(head, 0)
      body = pos + varPos
    }
    const recordEnd = body + length
    // A length past its batch would be read from the next batch or copied at the size it claims.
    if (length < 0 || recordEnd > end) throw malformed(`a record of ${length} bytes in a batch with ${end - body} left`)
    let ok: boolean
    let chunk: Buffer
    if (recordEnd <= bufEnd) {
      chunk = buf
      ok = decodeRecord(buf, body - bufStart, recordEnd - bufStart, base, baseTime, appendTime, out)
    } else {
      chunk = bytes.bytes(body, length)
      ok = decodeRecord(chunk, 0, length, base, baseTime, appendTime, out)
    }
    pos = recordEnd
    if (ok && out.add(recOffset, recTimestamp, out.chunkIndex(chunk), recValueStart, recValueEnd)) return true
  }
  return false
}

// The record decodeRecord read last: the hot loop allocates no result object.
let recOffset = 0
let recTimestamp = 0
let recValueStart = 0
let recValueEnd = 0

/** Reads the record whose body (after its length) is buf[pos, recordEnd); false when it is before `out.from`. */
function decodeRecord(buf: Buffer, pos: number, recordEnd: number, base: number, baseTime: number, appendTime: number | null, out: Columns): boolean {
  pos += 1 // attributes
  const timeDelta = varlong(buf, pos)
  pos = varPos
  const offset = base + varint(buf, pos)
  if (offset < out.from) return false
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
  for (let h = 0; h < headers && pos < recordEnd; h++) {
    const kl = varint(buf, pos)
    pos = varPos
    const isTime = kl === 2 && buf[pos] === T && buf[pos + 1] === S
    if (kl > 0) pos += kl
    const vl = varint(buf, pos)
    pos = varPos
    if (isTime && vl === 8) timestamp = int64(buf, pos)
    if (vl > 0) pos += vl
  }
  if (pos > recordEnd) throw malformed('fields past the end of the record')
  recOffset = offset
  recTimestamp = timestamp
  recValueStart = valueStart
  recValueEnd = valueStart + Math.max(0, valueLength)
  return true
}

/** Compressed batches are rare here (our producer never compresses): the client library decodes them, each value its own chunk. */
function decodeCompressed(batch: Buffer, out: Columns): boolean {
  const b = readRecordsBatch(Reader.from(batch))
  const base = Number(b.firstOffset)
  const appendTime = (b.attributes & LOG_APPEND_TIME) !== 0 ? Number(b.maxTimestamp) : null
  for (const r of b.records) {
    const offset = base + r.offsetDelta
    if (offset < out.from) continue
    let timestamp = appendTime ?? Number(b.firstTimestamp) + Number(r.timestampDelta)
    for (const [k, v] of r.headers) if (k?.length === 2 && k[0] === T && k[1] === S && v?.length === 8) timestamp = int64(v, 0)
    const value = r.value ?? EMPTY
    out.keys?.push(r.key === null ? null : r.key.toString('utf8'))
    out.chunks.push(value)
    if (out.add(offset, timestamp, out.chunks.length - 1, 0, value.length)) return true
  }
  return false
}

/** A record batch whose bytes contradict themselves: the read fails with this, naming what was wrong. */
function malformed(what: string): Error {
  return new Error(`malformed record batch: ${what}`)
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
    // Past 5 bytes (or past the buffer: undefined) it is no int32: a damaged record, not a long wait.
    if ((shift += 7) > 28) throw malformed('a varint longer than 5 bytes')
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
    if ((scale *= 128) > 2 ** 63) throw malformed('a varlong longer than 10 bytes')
  }
  varPos = pos
  return result % 2 === 0 ? result / 2 : -(result + 1) / 2
}
