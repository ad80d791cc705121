import type { LogRecord } from '../../log/event-log.ts'
import type { StreamKind } from '../streams/kinds.ts'
import { readStreamRecord, type RecordFilter, type WireRecord } from '../streams/records.ts'

/**
 * One record of an output log as a webhook dispatcher reads it. The engine writes these logs, but
 * on Kafka anyone can: a record that is not what a receiver is promised is skipped with a reason,
 * counted and logged by the dispatcher, and delivery goes on with the next record (docs/streams.md,
 * "Webhooks"). What a usable record is, SSE streams and webhooks share (readStreamRecord): a record
 * one of them would choke on (JSON too deeply nested to write back) the other skips too.
 */
export type WebhookRecord = { wire: WireRecord } | { skip: string } | null

/** The wire record, a skip with its reason, or null when the filter (a webhook's `only`) leaves it out. */
export function readWebhookRecord(kind: StreamKind, partition: number, record: LogRecord, filter: RecordFilter): WebhookRecord {
  const r = readStreamRecord(kind, partition, record, filter)
  return r === null || 'skip' in r ? r : { wire: r.wire }
}
