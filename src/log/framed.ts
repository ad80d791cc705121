import type { AppendRecord, AppendResult, EventLog, RecordFrame } from './event-log.ts'

/*
 * Records of one partition written straight into the layout the embedded log stores a batch in, by
 * bulk writers (`tagstream ingest`) that would otherwise make an object, a key string and a view per
 * record only for the log to copy them into this layout again:
 *
 *   u8 version | u32 count | f64 appendTime | count × (f64 timestamp | i32 keyLength (-1 = null) | u32 valueLength | key | value)
 *
 * (little-endian). appendFramed() hands it to an adapter that takes it as it is, or gives any other
 * adapter the records it holds.
 */

export const FRAME_VERSION = 1
/** u8 version | u32 count | f64 appendTime. */
export const FRAME_HEADER = 1 + 4 + 8
/** f64 timestamp | i32 keyLength | u32 valueLength. */
export const FRAME_RECORD_HEADER = 8 + 4 + 4

/** A growing frame of one partition's records; the header is filled when it is appended. */
export class FramedRecords implements RecordFrame {
  bytes: Buffer
  view: DataView
  used = FRAME_HEADER
  count = 0

  constructor(initial = 64 * 1024) {
    this.bytes = Buffer.allocUnsafeSlow(Math.max(initial, FRAME_HEADER + 64))
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength)
  }

  /** A frame filled elsewhere (another thread), its bytes[0, used) and record count. */
  static of(buffer: ArrayBuffer, used: number, count: number): FramedRecords {
    const f = new FramedRecords(0)
    f.bytes = Buffer.from(buffer)
    f.view = new DataView(buffer)
    f.used = used
    f.count = count
    return f
  }

  /** Room for `n` more bytes at `used`; returns `used`. */
  reserve(n: number): number {
    if (this.used + n > this.bytes.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(2 * this.bytes.length, this.used + n))
      this.bytes.copy(bigger, 0, 0, this.used)
      this.bytes = bigger
      this.view = new DataView(bigger.buffer, bigger.byteOffset, bigger.byteLength)
    }
    return this.used
  }

  /** Adds a record made elsewhere (a key string and a value). */
  add(record: AppendRecord, appendTime: number): void {
    const key = record.key === null ? null : Buffer.from(record.key)
    const keyLength = key === null ? -1 : key.length
    const at = this.reserve(FRAME_RECORD_HEADER + Math.max(keyLength, 0) + record.value.byteLength)
    this.view.setFloat64(at, record.timestamp ?? appendTime, true)
    this.view.setInt32(at + 8, keyLength, true)
    this.view.setUint32(at + 12, record.value.byteLength, true)
    let pos = at + FRAME_RECORD_HEADER
    if (key !== null) pos += key.copy(this.bytes, pos)
    this.bytes.set(record.value, pos)
    this.used = pos + record.value.byteLength
    this.count++
  }

  /** The whole frame with its header filled in for `appendTime`: what the embedded log stores. */
  seal(appendTime: number): Buffer {
    this.bytes[0] = FRAME_VERSION
    this.view.setUint32(1, this.count, true)
    this.view.setFloat64(5, appendTime, true)
    return this.bytes.subarray(0, this.used)
  }

  /** The records it holds, for an adapter that takes records (their values are views of the frame). */
  records(): AppendRecord[] {
    const out: AppendRecord[] = []
    for (let pos = FRAME_HEADER; pos < this.used;) {
      const timestamp = this.view.getFloat64(pos, true)
      const keyLength = this.view.getInt32(pos + 8, true)
      const valueLength = this.view.getUint32(pos + 12, true)
      const keyStart = pos + FRAME_RECORD_HEADER
      const valueStart = keyStart + Math.max(keyLength, 0)
      out.push({ key: keyLength < 0 ? null : this.bytes.toString('utf8', keyStart, valueStart), value: this.bytes.subarray(valueStart, valueStart + valueLength), timestamp })
      pos = valueStart + valueLength
    }
    return out
  }
}

/** Appends a frame's records to one partition: as the frame where the adapter takes one, else as records. */
export function appendFramed(log: EventLog, topic: string, partition: number, frame: FramedRecords): Promise<AppendResult> {
  return log.appendFramed ? log.appendFramed(topic, partition, frame) : log.append(topic, partition, frame.records())
}
