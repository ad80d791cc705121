import type { LogRecord } from '../../log/event-log.ts'
import type { StreamKind } from '../streams/kinds.ts'
import type { RecordFilter, WireRecord } from '../streams/records.ts'

/**
 * One record of an output log as a webhook dispatcher reads it. The engine writes these logs, but
 * on Kafka anyone can: a record that is not what a receiver is promised (a JSON object naming its
 * tenant, user, time, and its segment or trigger) is skipped with a reason, counted and logged by
 * the dispatcher, and delivery goes on with the next record (docs/streams.md, "Webhooks").
 */
export type WebhookRecord = { wire: WireRecord } | { skip: string } | null

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** The wire record, a skip with its reason, or null when the filter (a webhook's `only`) leaves it out. */
export function readWebhookRecord(kind: StreamKind, partition: number, record: LogRecord, filter: RecordFilter): WebhookRecord {
  let value: unknown
  try {
    value = JSON.parse(utf8.decode(record.value))
  } catch (err) {
    return { skip: `not UTF-8 JSON (${err instanceof Error ? err.message.slice(0, 200) : 'unreadable'})` }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { skip: `not a JSON object (${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value})` }
  const obj = value as Record<string, unknown>
  for (const field of ['tenant', 'user_id', kind.field] as const) {
    if (typeof obj[field] !== 'string') return { skip: `field "${field}" is missing or not a string` }
  }
  if (typeof obj.at !== 'number' || !Number.isFinite(obj.at)) return { skip: 'field "at" is missing or not a number' }
  if (filter.tenant !== null && obj.tenant !== filter.tenant) return null
  if (filter.only !== null && !filter.only.has(obj[kind.field] as string)) return null
  return { wire: { ...obj, partition, offset: record.offset } }
}
