import { CODEC, decodeEventAt } from '../events/codec.ts'
import { clockRecordTime } from '../events/clock-record.ts'
import { DEFAULT_TENANT, type TrackedEvent } from '../events/envelope.ts'
import { validateEvent } from '../events/validate.ts'

/*
 * What the engine makes of one record of the `events` log (docs/engine.md, "Poison records").
 * Our own writers (collector, ingest, game API) store validated events in the binary envelope and
 * clock records; a third-party producer on Kafka may write anything. Nothing here throws: a record
 * that is not a clock record or an event is a `Poison` with the field and the reason, and the
 * partition dead-letters it and moves on. Every decision is a function of the record's bytes, its
 * position and its log timestamp, so a restored partition decides every record the same way.
 */

/** A record the engine cannot use: where it went wrong and why, and the tenant when it could tell. */
export interface Poison {
  tenant: string
  field: string
  reason: string
}

export type EngineRecord = { kind: 'clock'; time: number } | { kind: 'event'; event: TrackedEvent } | { kind: 'poison'; poison: Poison }

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** `u8 2 | f64 time` (src/events/clock-record.ts). */
const CLOCK_RECORD_SIZE = 9

const MAX_TENANT = 128

/**
 * Tenants come from API keys (`key:tenant:scopes`), so a tenant never holds a colon, and the user
 * key is `tenant:user_id`: a colon would make two users one. Control characters would end up in
 * keys, logs and warehouse paths.
 */
function validTenant(t: string): boolean {
  if (t.length === 0 || t.length > MAX_TENANT) return false
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i)
    if (c < 0x20 || c === 0x3a) return false
  }
  return true
}

/**
 * Decodes record b[start, end) of partition `partition` at `offset`, stored at `timestamp`.
 * The engine's poll loop decodes binary events itself (decodeBinary) and calls this for the rest.
 */
export function decodeEngineRecord(b: Buffer, start: number, end: number, partition: number, offset: number, timestamp: number): EngineRecord {
  // An empty value (a Kafka tombstone, say): b[start] would be the next record's first byte.
  if (end <= start) return { kind: 'poison', poison: poison(DEFAULT_TENANT, '(record)', 'empty record') }
  const first = b[start]
  if (first === CODEC.VERSION) {
    const r = decodeBinary(b, start, end)
    return 'poison' in r ? { kind: 'poison', poison: r.poison } : { kind: 'event', event: r }
  }
  if (first === CODEC.CLOCK) {
    const bad = checkClock(b, start, end)
    return bad === null ? { kind: 'clock', time: clockRecordTime(b, start) } : { kind: 'poison', poison: bad }
  }
  return decodeJson(b, start, end, partition, offset, timestamp)
}

/** A clock record is exactly `u8 2 | f64 time` with a finite time; anything else starting with 2 is not one. */
export function checkClock(b: Buffer, start: number, end: number): Poison | null {
  if (end - start !== CLOCK_RECORD_SIZE) return poison(DEFAULT_TENANT, '(record)', `a clock record is ${CLOCK_RECORD_SIZE} bytes, this one ${end - start}`)
  if (!Number.isFinite(clockRecordTime(b, start))) return poison(DEFAULT_TENANT, '(record)', 'clock record time is not a finite number')
  return null
}

/**
 * A binary envelope (first byte 1). The collector validated it before writing, so only what a
 * damaged or forged record can break is checked: the layout (truncation, unknown property types,
 * bad nested JSON) and the numbers and names the engine keys on.
 */
export function decodeBinary(b: Buffer, start: number, end: number): TrackedEvent | { poison: Poison } {
  let e: TrackedEvent
  try {
    e = decodeEventAt(b, start, end)
  } catch (err) {
    return { poison: poison(DEFAULT_TENANT, '(record)', `binary event cannot be decoded: ${message(err)}`) }
  }
  const tenant = validTenant(e.tenant) ? e.tenant : DEFAULT_TENANT
  if (tenant !== e.tenant) return { poison: poison(tenant, 'tenant', 'must be 1 to 128 characters, no colon or control characters') }
  if (!Number.isFinite(e.ts)) return { poison: poison(tenant, 'ts', 'is not a finite number') }
  if (!Number.isFinite(e.received_at)) return { poison: poison(tenant, 'received_at', 'is not a finite number') }
  if (e.event.length === 0) return { poison: poison(tenant, 'event', 'is empty') }
  if (e.user_id.length === 0) return { poison: poison(tenant, 'user_id', 'is empty') }
  return e
}

/**
 * Anything else is read as JSON, as a third-party producer would write it: the collector's envelope
 * (what a client POSTs to /v1/events: `event`, `user_id`, optional `ts`, `event_id`, flat
 * properties), validated exactly as the collector does, received at the record's log timestamp.
 * The tenant is the record's own `tenant` field, else `default`. An event without `event_id` gets
 * `events:<partition>:<offset>`: fixed by its position, so a replay gives the same id.
 */
function decodeJson(b: Buffer, start: number, end: number, partition: number, offset: number, timestamp: number): EngineRecord {
  let text: string
  try {
    text = utf8.decode(b.subarray(start, end))
  } catch {
    return { kind: 'poison', poison: poison(DEFAULT_TENANT, '(record)', `${looksJson(b[start]) ? 'invalid JSON' : `unknown encoding (first byte 0x${hex(b[start])})`}: not UTF-8`) }
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    return { kind: 'poison', poison: poison(DEFAULT_TENANT, '(record)', looksJson(b[start]) ? `invalid JSON: ${message(err)}` : `unknown encoding (first byte 0x${hex(b[start])}): neither an event envelope nor JSON`) }
  }
  let tenant = DEFAULT_TENANT
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw) && Object.hasOwn(raw, 'tenant')) {
    const t = (raw as { tenant: unknown }).tenant
    if (typeof t !== 'string' || !validTenant(t)) return { kind: 'poison', poison: poison(DEFAULT_TENANT, 'tenant', 'must be a string of 1 to 128 characters, no colon or control characters') }
    tenant = t
  }
  const v = validateEvent(raw, { tenant, receivedAt: timestamp, makeId: () => `events:${partition}:${offset}` })
  return v.ok ? { kind: 'event', event: v.event } : { kind: 'poison', poison: poison(tenant, v.error.field, v.error.reason) }
}

/** Field names and reasons echo input (a long property name is its own field): both are capped. */
const MAX_FIELD = 256
const MAX_REASON = 1024

export function poison(tenant: string, field: string, reason: string): Poison {
  return { tenant, field: cap(field, MAX_FIELD), reason: cap(reason, MAX_REASON) }
}

function cap(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** `{`, `[`, `"` or JSON whitespace: the producer meant JSON. */
function looksJson(first: number | undefined): boolean {
  return first === 0x7b || first === 0x5b || first === 0x22 || first === 0x20 || first === 0x0a || first === 0x0d || first === 0x09
}

function hex(n: number | undefined): string {
  return (n ?? 0).toString(16).padStart(2, '0')
}
