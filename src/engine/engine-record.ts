import { CODEC, decodeEventAt, decodeJsonEvent } from '../events/codec.ts'
import { clockRecordTime } from '../events/clock-record.ts'
import { DEFAULT_TENANT, type TrackedEvent } from '../events/envelope.ts'
import { validTenant } from '../events/json-record.ts'

/*
 * What the engine makes of one record of the `events` log (docs/engine.md, "Poison records").
 * Our own writers (collector, ingest, game API) store validated events as JSON or in the binary
 * envelope (src/events/events-format.ts), and clock records; a third-party producer on Kafka may
 * write anything. Nothing here throws: a record
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

/** `u8 2 | f64 time` (src/events/clock-record.ts). */
const CLOCK_RECORD_SIZE = 9

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

/** The last tenant decodeBinary found valid. */
let validatedTenant = DEFAULT_TENANT

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
  // Checked once for a run of events of the same tenant (the decoder hands out the same string).
  if (e.tenant !== validatedTenant) {
    if (!validTenant(e.tenant)) return { poison: poison(DEFAULT_TENANT, 'tenant', 'must be 1 to 128 characters, no colon or control characters') }
    validatedTenant = e.tenant
  }
  const tenant = e.tenant
  if (!Number.isFinite(e.ts)) return { poison: poison(tenant, 'ts', 'is not a finite number') }
  if (!Number.isFinite(e.received_at)) return { poison: poison(tenant, 'received_at', 'is not a finite number') }
  if (e.event.length === 0) return { poison: poison(tenant, 'event', 'is empty') }
  if (e.user_id.length === 0) return { poison: poison(tenant, 'user_id', 'is empty') }
  return e
}

/**
 * Anything else is read as JSON: our own stored events (the JSON format, read from their bytes) or
 * what a third-party producer wrote, validated as the collector does, by the one decoder every
 * reader of the log shares (decodeJsonEvent, src/events/codec.ts), so the warehouse holds the very
 * event processed here.
 */
function decodeJson(b: Buffer, start: number, end: number, partition: number, offset: number, timestamp: number): EngineRecord {
  const r = decodeJsonEvent(b, start, end, { partition, offset, timestamp })
  return r.ok ? { kind: 'event', event: r.event } : { kind: 'poison', poison: poison(r.tenant ?? DEFAULT_TENANT, r.field, r.reason) }
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
