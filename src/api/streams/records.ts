import type { LogRecord } from '../../log/event-log.ts'
import type { StreamKind } from './kinds.ts'

const utf8 = new TextDecoder()

/** An output record as sent to clients: the log's JSON value plus where it sits in the log. */
export type WireRecord = Record<string, unknown> & { partition: number; offset: number }

export interface RecordFilter {
  /** Only this tenant's records; null = every tenant (webhooks are server-level). */
  tenant: string | null
  /** Only these segments / triggers (by the kind's field); null = all. */
  only: ReadonlySet<string> | null
}

/**
 * Decodes and filters one record of an output log; null when the filter rejects it or the value is
 * not a JSON object. The key (`tenant:user_id`) rejects other tenants before any JSON is parsed:
 * a key that does not start with `tenant:` cannot belong to that tenant.
 */
export function selectRecord(kind: StreamKind, partition: number, record: LogRecord, filter: RecordFilter): WireRecord | null {
  if (filter.tenant !== null && record.key !== null && !record.key.startsWith(`${filter.tenant}:`)) return null
  let value: unknown
  try {
    value = JSON.parse(utf8.decode(record.value))
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  const obj = value as Record<string, unknown>
  if (filter.tenant !== null && obj.tenant !== filter.tenant) return null
  if (filter.only !== null) {
    const name = obj[kind.field]
    if (typeof name !== 'string' || !filter.only.has(name)) return null
  }
  return { ...obj, partition, offset: record.offset }
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
