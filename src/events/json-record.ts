import { DEFAULT_TENANT, FORBIDDEN_KEY, RESERVED_FIELDS, type JsonValue, type TrackedEvent } from './envelope.ts'
import { ID_ASSIGNED, RECEIVED_AT } from './events-format.ts'
import { validateEvent } from './validate.ts'

/*
 * A record of the `events` log that another producer wrote as JSON (docs/kafka.md, "JSON events
 * from other producers"). Every reader of the log decodes such a record here — the engine, the
 * warehouse sink, decodeEvent (the dashboard) — so they all see the same event or the same refusal:
 * a warehouse row is the event the engine processed.
 *
 * The value is what a client would POST to /v1/events: a flat object of `event`, `user_id` (or
 * `anonymous_id`), optional `ts`, `event_id`, `sent_at`, and properties at the top level. It is
 * validated exactly as the collector validates an event, received at the record's log timestamp;
 * the tenant is the record's own `tenant` field, else `default`; an event without `event_id` gets
 * `events:<partition>:<offset>`. Every decision is a function of the bytes and the log position, so
 * a replay decides each record the same way.
 *
 * A record with `received_at` is a *stored* event (./json-writer.ts: what a collector writes in the
 * JSON format): one a collector validated and decided the time of. It is read as the binary
 * envelope is read (src/engine/engine-record.ts decodeBinary), not validated again: `ts` and
 * `received_at` are taken as written (finite epoch ms), the tenant must be one, `event` and
 * `user_id` non-empty strings, and every other field but the reserved ones is a property. So the
 * same event stored in either format is the same event to every reader, and a producer that writes
 * `received_at` is trusted as one that writes the binary envelope is.
 */

/** Where a record sits in the log: what a JSON record's receive time and default event_id come from. */
export interface LogPosition {
  partition: number
  offset: number
  /** The record's log timestamp, epoch ms. */
  timestamp: number
}

/**
 * The event, or why the record is not one: `field` as validation names it (`(record)` when the bytes
 * are not a JSON event at all) and `reason`. `tenant` is the tenant the record belongs to when that
 * can be told — its `tenant` field, or `default` for an object without one — else null.
 */
export type JsonRecord = { ok: true; event: TrackedEvent } | { ok: false; tenant: string | null; field: string; reason: string }

const utf8 = new TextDecoder('utf-8', { fatal: true })

const MAX_TENANT = 128

/**
 * Tenants come from API keys (`key:tenant:scopes`), so a tenant never holds a colon, and the user
 * key is `tenant:user_id`: a colon would make two users one. Control characters would end up in
 * keys, logs and warehouse paths.
 */
export function validTenant(t: string): boolean {
  if (t.length === 0 || t.length > MAX_TENANT) return false
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i)
    if (c < 0x20 || c === 0x3a) return false
  }
  return true
}

/** Decodes the JSON record in b[start, end) at log position `at` (needed unless it is a stored event). Never throws. */
export function decodeJsonRecord(b: Uint8Array, at: LogPosition | undefined, start = 0, end = b.byteLength): JsonRecord {
  // An empty value (a Kafka tombstone, say): b[start] would be another record's byte.
  if (end <= start) return refuse(null, '(record)', 'empty record')
  const first = b[start]
  let text: string
  try {
    text = utf8.decode(b.subarray(start, end))
  } catch {
    return refuse(null, '(record)', `${looksJson(first) ? 'invalid JSON' : `unknown encoding (first byte 0x${hex(first)})`}: not UTF-8`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    return refuse(
      null,
      '(record)',
      looksJson(first) ? `invalid JSON: ${err instanceof Error ? err.message : String(err)}` : `unknown encoding (first byte 0x${hex(first)}): neither an event envelope nor JSON`,
    )
  }
  let tenant: string | null = null
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    if (Object.hasOwn(raw, RECEIVED_AT)) return storedEvent(raw as Record<string, unknown>, at)
    tenant = DEFAULT_TENANT
    if (Object.hasOwn(raw, 'tenant')) {
      const t = (raw as { tenant: unknown }).tenant
      if (typeof t !== 'string' || !validTenant(t)) return refuse(null, 'tenant', 'must be a string of 1 to 128 characters, no colon or control characters')
      tenant = t
    }
  }
  // Its receive time and default event_id are its place in the log.
  if (at === undefined) return refuse(tenant, '(record)', 'a JSON event without received_at is decoded with its log position (partition, offset, timestamp)')
  const v = validateEvent(raw, { tenant: tenant ?? DEFAULT_TENANT, receivedAt: at.timestamp, makeId: () => `events:${at.partition}:${at.offset}` })
  if (!v.ok) return refuse(tenant, v.error.field, v.error.reason)
  // id_assigned marks an id the collector made up (envelope.ts); this one is the record's position,
  // and decoders leave the flag out.
  delete v.event.id_assigned
  return { ok: true, event: v.event }
}

const NOT_PROPERTIES = new Set<string>(RESERVED_FIELDS)

/** A stored event's object, read as the binary envelope is read (see the top comment). */
function storedEvent(o: Record<string, unknown>, at: LogPosition | undefined): JsonRecord {
  let tenant = DEFAULT_TENANT
  if (o.tenant !== undefined) {
    if (typeof o.tenant !== 'string' || !validTenant(o.tenant)) return refuse(null, 'tenant', 'must be a string of 1 to 128 characters, no colon or control characters')
    tenant = o.tenant
  }
  const { event, user_id, anonymous_id, ts, event_id, received_at } = o
  if (typeof received_at !== 'number' || !Number.isFinite(received_at)) return refuse(tenant, RECEIVED_AT, 'must be a finite number (epoch ms)')
  if (typeof ts !== 'number' || !Number.isFinite(ts)) return refuse(tenant, 'ts', 'must be a finite number (epoch ms) in a stored event')
  if (typeof event !== 'string' || event.length === 0) return refuse(tenant, 'event', 'must be a non-empty string')
  if (typeof user_id !== 'string' || user_id.length === 0) return refuse(tenant, 'user_id', 'must be a non-empty string in a stored event')
  if (anonymous_id !== undefined && typeof anonymous_id !== 'string') return refuse(tenant, 'anonymous_id', 'must be a string')
  if (o[ID_ASSIGNED] !== undefined && o[ID_ASSIGNED] !== true) return refuse(tenant, ID_ASSIGNED, 'must be true when present')
  let id: string
  if (typeof event_id === 'string') id = event_id
  else if (event_id !== undefined) return refuse(tenant, 'event_id', 'must be a string')
  else if (at === undefined) return refuse(tenant, 'event_id', 'is required without the log position')
  else id = `events:${at.partition}:${at.offset}`
  const properties: Record<string, JsonValue> = {}
  for (const key in o) {
    if (NOT_PROPERTIES.has(key)) continue
    // A plain assignment of this key would set the object's prototype.
    if (key === FORBIDDEN_KEY) return refuse(tenant, key, `property name "${FORBIDDEN_KEY}" is not allowed`)
    properties[key] = o[key] as JsonValue
  }
  const e: TrackedEvent = { event, user_id, ts, event_id: id, tenant, received_at, properties }
  if (anonymous_id !== undefined) e.anonymous_id = anonymous_id
  return { ok: true, event: e }
}

function refuse(tenant: string | null, field: string, reason: string): JsonRecord {
  return { ok: false, tenant, field, reason }
}

/** `{`, `[`, `"` or JSON whitespace: the producer meant JSON. */
function looksJson(first: number | undefined): boolean {
  return first === 0x7b || first === 0x5b || first === 0x22 || first === 0x20 || first === 0x0a || first === 0x0d || first === 0x09
}

function hex(n: number | undefined): string {
  return (n ?? 0).toString(16).padStart(2, '0')
}
