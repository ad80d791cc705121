import type { EventLog, LogRecord, ReadOptions, RecordBatch } from './event-log.ts'

/** Reads a batch of records as columns: the adapter's own readBatch when it has one, else read(). */
export async function readRecordBatch(log: EventLog, topic: string, partition: number, offset: number, options: ReadOptions = {}): Promise<RecordBatch> {
  if (log.readBatch) return log.readBatch(topic, partition, offset, options)
  return batchOfRecords(await log.read(topic, partition, offset, { ...options, keys: false }))
}

/** Records as a batch whose chunks are the records' own values. */
export function batchOfRecords(records: readonly LogRecord[]): RecordBatch {
  const n = records.length
  const batch: RecordBatch = {
    count: n,
    offsets: new Float64Array(n),
    timestamps: new Float64Array(n),
    chunks: new Array<Uint8Array>(n),
    chunkOf: new Uint32Array(n),
    starts: new Uint32Array(n),
    ends: new Uint32Array(n),
  }
  for (let i = 0; i < n; i++) {
    const r = records[i]!
    batch.offsets[i] = r.offset
    batch.timestamps[i] = r.timestamp
    batch.chunks[i] = r.value
    batch.chunkOf[i] = i
    batch.ends[i] = r.value.byteLength
  }
  return batch
}

/** Record i's value as a view (allocates: for readers of small topics). */
export function batchValue(batch: RecordBatch, i: number): Uint8Array {
  return batch.chunks[batch.chunkOf[i]!]!.subarray(batch.starts[i], batch.ends[i])
}
