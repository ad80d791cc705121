import type { RecordBatch } from './event-log.ts'

/**
 * A RecordBatch being filled record by record, for an adapter's readBatch: each record is its offset,
 * its time and where its value lies in one of the chunks (a stored frame, a fetched response), so no
 * object or view is made per record. The arrays grow as needed.
 */
export class RecordColumns {
  count = 0
  protected offsets: Float64Array
  protected timestamps: Float64Array
  readonly chunks: Uint8Array[] = []
  private chunkOf: Uint32Array
  private starts: Uint32Array
  private ends: Uint32Array

  constructor(capacity: number) {
    const n = Math.max(1, capacity)
    this.offsets = new Float64Array(n)
    this.timestamps = new Float64Array(n)
    this.chunkOf = new Uint32Array(n)
    this.starts = new Uint32Array(n)
    this.ends = new Uint32Array(n)
  }

  /** Adds a record whose value is bytes [start, end) of chunk `chunk`. */
  push(offset: number, timestamp: number, chunk: number, start: number, end: number): void {
    const i = this.count++
    if (i === this.offsets.length) this.grow()
    this.offsets[i] = offset
    this.timestamps[i] = timestamp
    this.chunkOf[i] = chunk
    this.starts[i] = start
    this.ends[i] = end
  }

  build(): RecordBatch {
    const n = this.count
    return {
      count: n,
      offsets: this.offsets.subarray(0, n),
      timestamps: this.timestamps.subarray(0, n),
      chunks: this.chunks,
      chunkOf: this.chunkOf.subarray(0, n),
      starts: this.starts.subarray(0, n),
      ends: this.ends.subarray(0, n),
    }
  }

  private grow(): void {
    const n = this.offsets.length * 2
    const grown = <T extends Float64Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(n)
      b.set(a)
      return b
    }
    this.offsets = grown(this.offsets, (k) => new Float64Array(k))
    this.timestamps = grown(this.timestamps, (k) => new Float64Array(k))
    this.chunkOf = grown(this.chunkOf, (k) => new Uint32Array(k))
    this.starts = grown(this.starts, (k) => new Uint32Array(k))
    this.ends = grown(this.ends, (k) => new Uint32Array(k))
  }
}
