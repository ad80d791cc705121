import type { RecordsBatch } from '@platformatic/kafka'
import type { AppendRecord, LogRecord } from '../event-log.ts'

/*
 * Record time. Our topics use message.timestamp.type=LogAppendTime, so the broker stamps every batch
 * with its arrival time and both its retention and our applyRetention() count age from arrival, as the
 * embedded log does. With CreateTime they would count from the event time we pass (an event's `ts`),
 * and a backfill of week-old events would be deleted by the broker minutes after it was accepted.
 * The time a caller gives travels in an 8-byte big-endian `ts` header instead and comes back as the
 * record's timestamp; records without one read back the broker's append time. (Written by
 * record-batch.ts.)
 */
const TIME_HEADER = Buffer.from('ts')
const IS_CONTROL = 0x20
const LOG_APPEND_TIME = 0x08
const EMPTY = new Uint8Array(0)

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

/** Records at `from` or later, within the limits (always at least one when there is one). */
export function decodeBatches(batches: readonly RecordsBatch[], limits: DecodeLimits): LogRecord[] {
  const out: LogRecord[] = []
  let bytes = 0
  for (const b of batches) {
    if ((b.attributes & IS_CONTROL) !== 0) continue
    const base = Number(b.firstOffset)
    const appendTime = (b.attributes & LOG_APPEND_TIME) !== 0 ? Number(b.maxTimestamp) : null
    const firstTimestamp = Number(b.firstTimestamp)
    for (const r of b.records) {
      const offset = base + r.offsetDelta
      // A fetch returns whole batches: the one holding `from` may start before it.
      if (offset < limits.from) continue
      const value = r.value ?? EMPTY
      out.push({
        offset,
        key: limits.keys && r.key !== null ? r.key.toString('utf8') : null,
        value,
        timestamp: headerTime(r.headers) ?? appendTime ?? firstTimestamp + Number(r.timestampDelta),
      })
      bytes += value.length
      if (out.length >= limits.maxRecords || bytes >= limits.maxBytes) return out
    }
  }
  return out
}

function headerTime(headers: ReadonlyArray<[Buffer | null, Buffer | null]>): number | null {
  for (const [k, v] of headers) {
    if (k !== null && v !== null && v.length === 8 && k.equals(TIME_HEADER)) return Number(v.readBigInt64BE(0))
  }
  return null
}

/** Stored size of a batch: Kafka's own measure for retention.bytes (the 12-byte offset+length prefix included). */
export function batchBytes(b: RecordsBatch): number {
  return b.length + 12
}

export function lastOffsetOf(b: RecordsBatch): number {
  return Number(b.firstOffset) + b.lastOffsetDelta
}
