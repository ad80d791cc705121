import { isUtf8 } from 'node:buffer'
import { CODEC, decodeJsonEvent, encodeEvent } from '../../events/codec.ts'
import type { LogPosition } from '../../events/json-record.ts'
import { PREDICTION_EVENT } from '../../events/prediction.ts'

/*
 * What the sink does with a record it cannot read (docs/warehouse-sink.md, "Poison records"). A
 * Kafka topic takes bytes from any producer, so the sink checks every record before its bytes reach
 * a file: a binary envelope is walked once, bounds, types, times and UTF-8 checked, before the
 * transcoder copies it; a JSON record is decoded as the engine decodes it, or refused. A refused
 * record becomes a PoisonRecord: the flush carries on without it and the sink sends it to the dead
 * letters.
 */

/** A record the sink skipped, with why: what goes to the dead-letter log. */
export interface PoisonRecord {
  offset: number
  /** The log's append time of the record, ms. */
  timestamp: number
  reason: string
  /** The tenant named in the record when it could be read, else ''. */
  tenant: string
  raw: Uint8Array
}

const { VERSION, AT_TS, AT_RECEIVED, AT_FLAGS, HEADER, HAS_ANONYMOUS_ID, SERVER_ID, T_NULL, T_FALSE, T_TRUE, T_NUMBER, T_STRING, T_JSON } = CODEC

/**
 * Event times the layout can place in a `dt=YYYY-MM-DD` directory: years 0001 to 9999 (a later
 * year would make a `dt=+012345-…` directory that no reader parses as a DATE).
 */
const MIN_TIME_MS = -62_135_596_800_000
const MAX_TIME_MS = 253_402_300_799_999
/** Other times (received_at) only need to be a TIMESTAMP: JavaScript's Date range. */
const MAX_ANY_TIME_MS = 8.64e15

/** Event names become directory names (event=NAME): the collector's rule (src/events/validate.ts). */
const EVENT_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/

/**
 * The server's own events, whose names the collector's rule refuses so that no client can send one
 * (a `$` first): the daily scoring run's prediction events (src/events/prediction.ts). Each is filed
 * as `event=NAME` like any event (`$` needs no escaping in a path, nor in Hive's partition names).
 */
const SYSTEM_EVENTS: ReadonlySet<string> = new Set([PREDICTION_EVENT])

/** Whether an event name can be filed as an `event=NAME` directory: the collector's names and the server's own. */
export function fileableEventName(name: string): boolean {
  return EVENT_NAME.test(name) || SYSTEM_EVENTS.has(name)
}

/**
 * Why the binary envelope at b[s, end) cannot be transcoded, or null when it can: every length within
 * the record and the record exactly used up, known flags and property types, finite times in range,
 * finite numbers (JSON has no NaN), UTF-8 strings (DuckDB refuses a Parquet file holding invalid
 * UTF-8, so one such value would break every query over the warehouse), nested JSON that parses.
 * The event name's form is checked where a file is chosen for it (once per event name and flush).
 */
export function envelopeProblem(b: Buffer, view: DataView, s: number, end: number): string | null {
  if (b[s] !== VERSION) return `unknown event encoding ${b[s]}`
  if (end - s < 26) return 'record shorter than an event envelope'
  const ts = view.getFloat64(s + AT_TS, true)
  if (!(ts >= MIN_TIME_MS && ts <= MAX_TIME_MS)) return `ts out of range: ${ts}`
  const received = view.getFloat64(s + AT_RECEIVED, true)
  if (!(received >= -MAX_ANY_TIME_MS && received <= MAX_ANY_TIME_MS)) return `received_at out of range: ${received}`
  const flags = b[s + AT_FLAGS]!
  if ((flags & ~(HAS_ANONYMOUS_ID | SERVER_ID)) !== 0) return `unknown flags ${flags}`
  // The header's strings: event and tenant (u8 length), user_id, [anonymous_id], event_id (u16
  // length). The record has at least 26 bytes, so the first two lengths are in it.
  const strings = s + HEADER
  let pos = strings + 1 + b[strings]!
  if (pos >= end) return 'envelope truncated'
  pos += 1 + b[pos]!
  if (pos + 2 > end) return 'envelope truncated'
  pos += 2 + view.getUint16(pos, true)
  if (flags & HAS_ANONYMOUS_ID) {
    if (pos + 2 > end) return 'envelope truncated'
    pos += 2 + view.getUint16(pos, true)
  }
  if (pos + 2 > end) return 'envelope truncated'
  pos += 2 + view.getUint16(pos, true)
  if (pos + 2 > end) return 'envelope truncated'
  // The length prefixes lie within the strings' span: one scan for a high bit covers the lot; only
  // a span with one (a long length, a non-ASCII character) asks for the exact check of each string.
  if (!ascii(b, view, strings, pos) && !headerUtf8(b, view, s, flags)) return 'invalid UTF-8 in an envelope field'
  const count = view.getUint16(pos, true)
  pos += 2
  for (let p = 0; p < count; p++) {
    if (pos >= end) return 'properties truncated'
    const kStart = pos + 1
    pos = kStart + b[pos]!
    if (pos >= end) return 'properties truncated'
    if (!utf8(b, view, kStart, pos)) return 'invalid UTF-8 in a property name'
    const type = b[pos++]
    if (type === T_NUMBER) {
      // JSON has no NaN or Infinity: `properties` must stay JSON (the collector never sends them).
      if (pos + 8 > end || !Number.isFinite(view.getFloat64(pos, true))) return pos + 8 > end ? 'properties truncated' : 'property number not finite'
      pos += 8
    } else if (type === T_STRING || type === T_JSON) {
      if (pos + 4 > end) return 'properties truncated'
      const vStart = pos + 4
      pos = vStart + view.getUint32(pos, true)
      if (pos > end) return 'properties truncated'
      if (!utf8(b, view, vStart, pos)) return 'invalid UTF-8 in a property value'
      if (type === T_JSON && !parses(b, vStart, pos)) return 'nested property value is not JSON'
    } else if (type !== T_NULL && type !== T_FALSE && type !== T_TRUE) return `unknown property type ${type}`
  }
  if (pos !== end) return pos > end ? 'properties truncated' : 'bytes after the event'
  return null
}

/** Each header string on its own (called only when their span has a high byte). */
function headerUtf8(b: Buffer, view: DataView, s: number, flags: number): boolean {
  let pos = s + HEADER
  for (let f = 0; f < (flags & HAS_ANONYMOUS_ID ? 5 : 4); f++) {
    const wide = f >= 2
    const start = pos + (wide ? 2 : 1)
    pos = start + (wide ? view.getUint16(pos, true) : b[pos]!)
    if (!utf8(b, view, start, pos)) return false
  }
  return true
}

/** No byte of b[start, end) has its high bit set: 8 bytes a step. */
function ascii(b: Buffer, view: DataView, start: number, end: number): boolean {
  let i = start
  let high = 0
  for (; i + 8 <= end; i += 8) high |= view.getUint32(i, true) | view.getUint32(i + 4, true)
  for (; i < end; i++) high |= b[i]!
  return (high & 0x80808080) === 0
}

/** Most strings are ASCII: the scan for a high bit settles them; only one with a high byte asks the full check. */
function utf8(b: Buffer, view: DataView, start: number, end: number): boolean {
  return ascii(b, view, start, end) || isUtf8(b.subarray(start, end))
}

function parses(b: Buffer, start: number, end: number): boolean {
  try {
    JSON.parse(b.toString('utf8', start, end))
    return true
  } catch {
    return false
  }
}

/**
 * Any other record is read as a JSON event — our own stored events, or another producer's — by the
 * decoder the engine uses (decodeJsonEvent), so a row is exactly the event the engine processed: same event_id,
 * ts, tenant and properties. The event comes back in the binary form, checked like every other envelope:
 * what the engine takes but a file cannot hold (a `ts` outside the years 0001–9999, say, from a
 * record whose log timestamp is one, or a tenant over 255 bytes) is refused too. A refusal carries
 * the record's tenant when it names one (`default` for an object without `tenant`), else ''.
 */
export function jsonRecordEnvelope(b: Buffer, start: number, end: number, at: LogPosition): { event: Buffer } | { reason: string; tenant: string } {
  const r = decodeJsonEvent(b, start, end, at)
  if (!r.ok) return { reason: `${r.field}: ${r.reason}`, tenant: r.tenant ?? '' }
  const tenant = r.event.tenant
  let event: Buffer
  try {
    event = encodeEvent(r.event)
  } catch (err) {
    return { reason: err instanceof Error ? err.message : String(err), tenant }
  }
  const problem = envelopeProblem(event, new DataView(event.buffer, event.byteOffset, event.byteLength), 0, event.length)
  return problem === null ? { event } : { reason: problem, tenant }
}
