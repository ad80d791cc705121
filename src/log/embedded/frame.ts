import type { AppendRecord, LogRecord } from '../event-log.ts'
import { FRAME_HEADER, FRAME_RECORD_HEADER, FRAME_VERSION } from '../framed.ts'
import { RecordColumns } from '../record-columns.ts'

/**
 * One appended batch is stored as one LMDB value: one B-tree insert per 1,000 events instead of
 * 1,000, which is what lets a single writer reach millions of durable events per second. The layout
 * is ../framed.ts's, which bulk writers fill directly.
 */
const VERSION = FRAME_VERSION
const HEADER = FRAME_HEADER
const RECORD_HEADER = FRAME_RECORD_HEADER

export interface FrameInfo {
  count: number
  appendTime: number
}

export function encodeFrame(records: readonly AppendRecord[], appendTime: number): Buffer {
  const n = records.length
  const keyLengths = new Int32Array(n)
  let size = HEADER
  for (let i = 0; i < n; i++) {
    const r = records[i]!
    const keyLength = r.key === null ? -1 : Buffer.byteLength(r.key, 'utf8')
    keyLengths[i] = keyLength
    size += RECORD_HEADER + Math.max(keyLength, 0) + r.value.byteLength
  }
  const buf = Buffer.allocUnsafe(size)
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  view.setUint8(0, VERSION)
  view.setUint32(1, n, true)
  view.setFloat64(5, appendTime, true)
  let pos = HEADER
  for (let i = 0; i < n; i++) {
    const r = records[i]!
    const keyLength = keyLengths[i]!
    view.setFloat64(pos, r.timestamp ?? appendTime, true)
    view.setInt32(pos + 8, keyLength, true)
    view.setUint32(pos + 12, r.value.byteLength, true)
    pos += RECORD_HEADER
    if (keyLength > 0) pos += writeKey(buf, r.key!, keyLength, pos)
    buf.set(r.value, pos)
    pos += r.value.byteLength
  }
  return buf
}

/** Keys are short and almost always ASCII; a byte loop beats Buffer#write's native call for them. */
function writeKey(buf: Buffer, key: string, byteLength: number, pos: number): number {
  if (byteLength !== key.length) return buf.write(key, pos, byteLength, 'utf8')
  for (let i = 0; i < byteLength; i++) buf[pos + i] = key.charCodeAt(i)
  return byteLength
}

export function frameInfo(buf: Uint8Array): FrameInfo {
  const b = asBuffer(buf)
  if (b.readUInt8(0) !== VERSION) throw new Error(`unknown log frame version ${b.readUInt8(0)}`)
  return { count: b.readUInt32LE(1), appendTime: b.readDoubleLE(5) }
}

/** Decodes the records of a frame whose first offset is `baseOffset`, skipping those before `from`. */
export function decodeFrame(buf: Uint8Array, baseOffset: number, from: number, out: LogRecord[], maxRecords: number, keys = true): number {
  const b = asBuffer(buf)
  const { count } = frameInfo(b)
  let pos = HEADER
  let bytes = 0
  for (let i = 0; i < count && out.length < maxRecords; i++) {
    const timestamp = b.readDoubleLE(pos)
    const keyLength = b.readInt32LE(pos + 8)
    const valueLength = b.readUInt32LE(pos + 12)
    pos += RECORD_HEADER
    const keyEnd = pos + Math.max(keyLength, 0)
    if (baseOffset + i >= from) {
      const key = keyLength < 0 || !keys ? null : b.toString('utf8', pos, keyEnd)
      out.push({ offset: baseOffset + i, key, value: b.subarray(keyEnd, keyEnd + valueLength), timestamp })
      bytes += valueLength
    }
    pos = keyEnd + valueLength
  }
  return bytes
}

/** A RecordBatch being filled frame by frame. */
export class BatchBuilder extends RecordColumns {
  /**
   * Adds the records of a frame whose first offset is `baseOffset`, skipping those before `from`, up to
   * `maxRecords` in the batch; returns their value bytes. The frame itself becomes a chunk: no view
   * or object per record.
   */
  addFrame(buf: Uint8Array, baseOffset: number, from: number, maxRecords: number): number {
    const b = asBuffer(buf)
    const { count } = frameInfo(b)
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
    const chunk = this.chunks.length
    let pos = HEADER
    let bytes = 0
    let added = 0
    for (let i = 0; i < count && this.count < maxRecords; i++) {
      const keyLength = view.getInt32(pos + 8, true)
      const valueLength = view.getUint32(pos + 12, true)
      const start = pos + RECORD_HEADER + Math.max(keyLength, 0)
      if (baseOffset + i >= from) {
        this.push(baseOffset + i, view.getFloat64(pos, true), chunk, start, start + valueLength)
        bytes += valueLength
        added++
      }
      pos = start + valueLength
    }
    if (added > 0) this.chunks.push(b)
    return bytes
  }

  /** Drops trailing records at or past `end`. */
  truncate(end: number): void {
    while (this.count > 0 && this.offsets[this.count - 1]! >= end) this.count--
  }
}

function asBuffer(buf: Uint8Array): Buffer {
  return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
}
