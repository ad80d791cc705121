import type { TrackedEvent } from './envelope.ts'
import { readShortString, RepeatedString } from './intern.ts'
import { CODEC, f64At } from './codec-layout.ts'
import { ANY_KEY, EventView, decodeProperties, walkProperties } from './event-view.ts'
import { decodeJsonRecord, type JsonRecord, type LogPosition } from './json-record.ts'
import { readCanonicalEvent } from './json-reader.ts'
import { encodeEventJson } from './json-writer.ts'
import type { EventsFormat } from './events-format.ts'

/*
 * How an event travels through the log. JSON is parsed once, at the edge; inside, events are stored
 * in a compact binary envelope: the reserved fields as fixed-width numbers and length-prefixed
 * strings, the properties as one JSON document. Half the bytes of the JSON envelope, which is what
 * bounds durable append speed on a disk, and decoding skips parsing the envelope's keys.
 *
 *   u8 version (1) | f64 ts | f64 received_at | u8 flags (1 = has anonymous_id, 2 = server-assigned event_id)
 *   | u8 len, event | u8 len, tenant | u16 len, user_id | [u16 len, anonymous_id] | u16 len, event_id
 *   | u16 property count | count × (u8 len, key | u8 type | value)
 *
 * Property values: type 0 null, 1 false, 2 true, 3 f64, 4 u32 len + UTF-8 string, 5 u32 len + JSON
 * (objects and arrays). Flat scalar properties — nearly all of them — decode with no JSON.parse.
 *
 * A value whose first byte is 2 is a clock record, not an event (clock-record.ts).
 *
 * A value that starts with `{` is JSON: our own canonical record (json-writer.ts, the default
 * format since issue 23: events-format.ts), read from its bytes by json-reader.ts, or what another
 * producer wrote to a Kafka topic, read by json-record.ts. decodeEventAt is the one entry point every
 * reader of the log decodes events through, whichever the format. A JSON record without
 * `received_at` takes its receive time and default event_id from its place in the log, so it is
 * read only when given that place.
 */
export { CODEC }
const { VERSION, AT_TS, AT_RECEIVED, AT_FLAGS, HEADER, HAS_ANONYMOUS_ID, SERVER_ID, OPEN_BRACE, T_NULL, T_FALSE, T_TRUE, T_NUMBER, T_STRING, T_JSON } = CODEC

// Events are encoded straight into a shared slab and handed out as views of it: no copy and no
// allocation per event. A full slab is left to the views that still point into it.
const SLAB = 256 * 1024
let slab = Buffer.allocUnsafe(SLAB)
let used = 0

export function encodeEvent(event: TrackedEvent): Buffer {
  const anon = event.anonymous_id
  let worst = 64 + 3 * (event.event.length + event.tenant.length + event.user_id.length + (anon?.length ?? 0) + event.event_id.length)
  const props = event.properties
  const nested: Array<string | undefined> = []
  let count = 0
  for (const key in props) {
    const v = props[key]
    worst += 16 + 3 * key.length
    if (typeof v === 'string') worst += 3 * v.length
    else if (typeof v === 'object' && v !== null) {
      const json = JSON.stringify(v)
      nested[count] = json
      worst += 3 * json.length
    }
    count++
  }
  if (used + worst > slab.length) {
    slab = Buffer.allocUnsafe(Math.max(SLAB, worst))
    used = 0
  }
  const b = slab
  const start = used
  b[start] = VERSION
  b.writeDoubleLE(event.ts, start + AT_TS)
  b.writeDoubleLE(event.received_at, start + AT_RECEIVED)
  b[start + AT_FLAGS] = (anon === undefined ? 0 : HAS_ANONYMOUS_ID) | (event.id_assigned === true ? SERVER_ID : 0)
  let pos = start + HEADER
  pos = writeString(b, pos, event.event, 1)
  pos = writeString(b, pos, event.tenant, 1)
  pos = writeString(b, pos, event.user_id, 2)
  if (anon !== undefined) pos = writeString(b, pos, anon, 2)
  pos = writeString(b, pos, event.event_id, 2)
  b.writeUInt16LE(count, pos)
  pos += 2
  let i = 0
  for (const key in props) {
    const v = props[key]
    pos = writeString(b, pos, key, 1)
    if (v === null) b[pos++] = T_NULL
    else if (v === false) b[pos++] = T_FALSE
    else if (v === true) b[pos++] = T_TRUE
    else if (typeof v === 'number') {
      b[pos] = T_NUMBER
      b.writeDoubleLE(v, pos + 1)
      pos += 9
    } else if (typeof v === 'string') {
      b[pos] = T_STRING
      pos = writeString(b, pos + 1, v, 4)
    } else {
      b[pos] = T_JSON
      pos = writeString(b, pos + 1, nested[i]!, 4)
    }
    i++
  }
  used = pos
  return b.subarray(start, pos)
}

/** The event as a record of the `events` log in `format` (events-format.ts). */
export function encodeEventAs(event: TrackedEvent, format: EventsFormat): Buffer {
  return format === 'json' ? encodeEventJson(event) : encodeEvent(event)
}

/**
 * A plain event object from a record's value; throws when the value is not an event. `at`, the
 * record's log position, is needed for a JSON record (see decodeOther).
 */
export function decodeEvent(bytes: Uint8Array, at?: LogPosition): TrackedEvent {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const v = decodeEventAt(b, 0, b.length, at)
  if (!(v instanceof EventView)) return v
  const out: TrackedEvent = { event: v.event, user_id: v.user_id, ts: v.ts, event_id: v.event_id, tenant: v.tenant, received_at: v.received_at, properties: v.properties }
  if (v.anonymous_id !== undefined) out.anonymous_id = v.anonymous_id
  return out
}

/** Where a binary event's tenant and event_id lie in its buffer (idSpan's answer, reused: copy what you keep). */
export interface IdSpan {
  tenantStart: number
  tenantEnd: number
  idStart: number
  idEnd: number
}
const span: IdSpan = { tenantStart: 0, tenantEnd: 0, idStart: 0, idEnd: 0 }

/**
 * The tenant's and the event_id's place in the binary event b[s, end), found by skipping the fields
 * before them by their lengths, nothing decoded (de-duplication reads nothing else). Null when a
 * length runs past `end` (a damaged record). The caller has checked the version byte.
 */
export function idSpan(b: Buffer, s: number, end: number): IdSpan | null {
  let pos = s + HEADER
  if (pos >= end) return null
  pos += 1 + b[pos]! // event
  if (pos >= end) return null
  span.tenantStart = pos + 1
  span.tenantEnd = pos = span.tenantStart + b[pos]!
  if (pos + 2 > end) return null
  pos += 2 + (b[pos]! | (b[pos + 1]! << 8)) // user_id
  if ((b[s + AT_FLAGS]! & HAS_ANONYMOUS_ID) !== 0) {
    if (pos + 2 > end) return null
    pos += 2 + (b[pos]! | (b[pos + 1]! << 8))
  }
  if (pos + 2 > end) return null
  span.idStart = pos + 2
  span.idEnd = span.idStart + (b[pos]! | (b[pos + 1]! << 8))
  return span.idEnd > end ? null : span
}

// The previous event's name and tenant: the next event's are most often the same strings.
const eventNames = new RepeatedString()
const tenants = new RepeatedString()

/** Decodes the event in b[start, end) (binary or JSON; `at` for JSON without received_at) without copying it first. */
export function decodeEventAt(b: Buffer, start: number, end: number, at?: LogPosition): TrackedEvent {
  if (b[start] !== VERSION || end <= start) return decodeOther(b, start, end, at)
  // Every bulk reader (engine threads, workers, replay) decodes here, once per event: positions are
  // locals and the fixed-width numbers are read through a DataView of the buffer (f64At), not a Buffer method each.
  const ts = f64At(b, start + AT_TS)
  const received_at = f64At(b, start + AT_RECEIVED)
  const flags = b[start + AT_FLAGS]!
  let pos = start + HEADER
  let n = b[pos]!
  const event = eventNames.read(b, pos + 1, (pos += 1 + n))
  n = b[pos]!
  const tenant = tenants.read(b, pos + 1, (pos += 1 + n))
  n = b[pos]! | (b[pos + 1]! << 8)
  const user_id = readShortString(b, pos + 2, (pos += 2 + n))
  let anonymous_id: string | undefined
  if (flags & HAS_ANONYMOUS_ID) {
    n = b[pos]! | (b[pos + 1]! << 8)
    anonymous_id = readShortString(b, pos + 2, (pos += 2 + n))
  }
  const idStart = pos + 2
  const idEnd = (pos = idStart + (b[pos]! | (b[pos + 1]! << 8)))
  // The properties are walked (a damaged layout throws here, where readers catch it) but made into
  // an object only when first asked for: most events' rules never look at them (EventView).
  const walked = walkProperties(b, pos)
  if (walked.end > end) throw new Error('encoded event overruns its record')
  // A JSON value is parsed now, so that bad nested JSON fails the decoding as it always has.
  const properties = walked.json ? decodeProperties(b, pos) : null
  const view = new EventView(event, tenant, user_id, ts, received_at, properties, b, idStart, idEnd, pos, walked.json ? ANY_KEY : walked.bloom)
  if (anonymous_id !== undefined) view.anonymous_id = anonymous_id
  return view
}

/**
 * A value that is not the binary envelope: JSON, our canonical record read from its bytes when it is
 * one, else by json-record.ts (the engine's and the warehouse sink's decoder too); one that fails
 * throws, as the engine dead-letters it. A JSON event without received_at and without its log
 * position throws too: its receive time and default event_id would have to be made up, and would
 * differ from the engine's.
 */
function decodeOther(b: Buffer, start: number, end: number, at: LogPosition | undefined): TrackedEvent {
  if (end <= start) throw new Error('empty record')
  const first = b[start]
  if (first === CODEC.CLOCK || first === CODEC.IDENTITY || first === CODEC.RULES || first === CODEC.ERASE || (at === undefined && first !== OPEN_BRACE)) {
    throw new Error(`unknown event encoding ${first}`)
  }
  const r = decodeJsonEvent(b, start, end, at)
  if (!r.ok) throw new Error(`${r.field}: ${r.reason}`)
  return r.event
}

/**
 * A JSON record of the `events` log, never throwing: our canonical record read from its bytes
 * (json-reader.ts), anything else by json-record.ts, which decides what the fast reader leaves. The
 * engine's poison records and the warehouse sink's refusals come from here, so they agree.
 */
export function decodeJsonEvent(b: Buffer, start: number, end: number, at: LogPosition | undefined): JsonRecord {
  if (b[start] === OPEN_BRACE) {
    const fast = readCanonicalEvent(b, start, end)
    if (fast !== null) return { ok: true, event: fast }
  }
  return decodeJsonRecord(b, at, start, end)
}

function writeString(b: Buffer, pos: number, s: string, lengthBytes: 1 | 2 | 4): number {
  const start = pos + lengthBytes
  let n = s.length
  let ascii = true
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c > 0x7f) {
      ascii = false
      break
    }
    b[start + i] = c
  }
  if (!ascii) n = b.write(s, start, 'utf8')
  if (lengthBytes === 1) {
    if (n > 0xff) throw new RangeError(`field longer than 255 bytes: ${s.slice(0, 20)}…`)
    b[pos] = n
  } else if (lengthBytes === 2) {
    if (n > 0xffff) throw new RangeError(`field longer than 65535 bytes: ${s.slice(0, 20)}…`)
    b.writeUInt16LE(n, pos)
  } else b.writeUInt32LE(n, pos)
  return start + n
}
