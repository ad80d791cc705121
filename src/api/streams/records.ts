import type { LogRecord } from '../../log/event-log.ts'
import type { StreamKind } from './kinds.ts'

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** An output record as sent to clients: the log's JSON value plus where it sits in the log. */
export type WireRecord = Record<string, unknown> & { partition: number; offset: number }

export interface RecordFilter {
  /** Only this tenant's records; null = every tenant (webhooks are server-level). */
  tenant: string | null
  /** Only these segments / triggers (by the kind's field); null = all. */
  only: ReadonlySet<string> | null
}

/**
 * One record of an output log as a stream reads it: the wire record with its JSON text (the SSE
 * `data:`), a skip with its reason, or null when the filter leaves it out. The engine writes these
 * logs, but on Kafka anyone can: a record that is not what a client is promised — UTF-8 JSON, an
 * object with a string `tenant`, `user_id` and segment or trigger, a numeric `at`, and that can be
 * written back as JSON (JSON.parse takes nesting that JSON.stringify overflows its stack on) — is
 * skipped, and the stream goes on with the next record. The key (`tenant:user_id`) rejects other
 * tenants before any JSON is parsed: a key that does not start with `tenant:` cannot be that tenant's.
 */
export function readStreamRecord(kind: StreamKind, partition: number, record: LogRecord, filter: RecordFilter): { wire: WireRecord; data: string } | { skip: string } | null {
  if (filter.tenant !== null && record.key !== null && !record.key.startsWith(`${filter.tenant}:`)) return null
  let value: unknown
  try {
    value = JSON.parse(utf8.decode(record.value))
  } catch (err) {
    return { skip: `not UTF-8 JSON (${message(err)})` }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { skip: `not a JSON object (${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value})` }
  const obj = value as Record<string, unknown>
  if (typeof obj.tenant !== 'string') return { skip: 'field "tenant" is missing or not a string' }
  // Another tenant's record is not this stream's to judge.
  if (filter.tenant !== null && obj.tenant !== filter.tenant) return null
  for (const field of ['user_id', kind.field] as const) {
    if (typeof obj[field] !== 'string') return { skip: `field "${field}" is missing or not a string` }
  }
  if (typeof obj.at !== 'number' || !Number.isFinite(obj.at)) return { skip: 'field "at" is missing or not a number' }
  if (filter.only !== null && !filter.only.has(obj[kind.field] as string)) return null
  const wire: WireRecord = { ...obj, partition, offset: record.offset }
  let data: string
  try {
    data = JSON.stringify(wire)
  } catch (err) {
    return { skip: `cannot be written as JSON (${message(err)})` }
  }
  return { wire, data }
}

/** The wire record, or null when it is filtered out or skipped (readStreamRecord). */
export function selectRecord(kind: StreamKind, partition: number, record: LogRecord, filter: RecordFilter): WireRecord | null {
  const r = readStreamRecord(kind, partition, record, filter)
  return r !== null && 'wire' in r ? r.wire : null
}

function message(err: unknown): string {
  return err instanceof Error ? err.message.slice(0, 200) : 'unreadable'
}

/** `a,b` or repeated parameters → a set of names; absent or empty → null (no filter). */
export function parseNameList(value: unknown): Set<string> | null {
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value]
  const names = new Set<string>()
  for (const item of items) {
    if (typeof item !== 'string') continue
    for (const name of item.split(',')) if (name.trim() !== '') names.add(name.trim())
  }
  return names.size > 0 ? names : null
}
