import { isUtf8 } from 'node:buffer'
import type { JsonValue, TrackedEvent } from './envelope.ts'
import { DEFAULT_TENANT, FORBIDDEN_KEY, RESERVED_FIELDS } from './envelope.ts'
import { EventView, keyBit } from './event-view.ts'
import { readShortString, RepeatedString } from './intern.ts'
import { JSON_LAYOUT } from './json-layout.ts'
import { validTenant } from './json-record.ts'

/*
 * The engine's byte-level reader of the canonical JSON record (./json-writer.ts): the envelope read
 * at its fixed places, the properties walked once (their extent, the bloom of their keys) and made
 * into an object only when first asked for, as EventView does for the binary envelope. No
 * JSON.parse, no object per property.
 *
 * It reads only what it can read exactly as json-record.ts reads a stored event (JSON.parse, then
 * the stored-event rules): anything else — another field order, whitespace, an escape in an
 * envelope string, a nested property value, a key that starts with a digit (JSON.parse would put it
 * first), a reserved name or `__proto__` among the properties, bytes that are not UTF-8 — and any
 * record those rules refuse gives null, and the caller takes json-record.ts, which decides.
 */

// What the reader expects before each value: the layout cut after a string's opening quote (the
// closing quote of the one before is stepped over as the string is read).
const L = JSON_LAYOUT
const lit = (s: string): Buffer => Buffer.from(s)
const EVENT = lit(`${L.event}"`)
const USER = lit(`"${L.userId}"`)
const ANON = lit(`${L.anonymousId}"`)
const TS = lit(L.ts)
const EVENT_ID = lit(`${L.eventId}"`)
const ASSIGNED = lit(L.assigned)
const TENANT = lit(`${L.tenant}"`)
const RECEIVED = lit(L.receivedAt)

/** Property keys the reader leaves to json-record.ts: the reserved fields, and `__proto__`. */
const NOT_KEYS = [...RESERVED_FIELDS, FORBIDDEN_KEY].map((k) => Buffer.from(k))
/** Per key length, the keys of NOT_KEYS of that length (compared byte by byte: no string made per property). */
const NOT_KEYS_BY_LENGTH: Buffer[][] = []
for (const k of NOT_KEYS) (NOT_KEYS_BY_LENGTH[k.length] ??= []).push(k)

/** b[s, s + n) is one of NOT_KEYS. */
function notKey(b: Buffer, s: number, n: number): boolean {
  const same = NOT_KEYS_BY_LENGTH[n]
  if (same === undefined) return false
  for (const k of same) {
    let i = 0
    while (i < n && b[s + i] === k[i]) i++
    if (i === n) return true
  }
  return false
}

type Latin1 = Buffer & { latin1Slice(start: number, end: number): string }

/** What readHeader found: the envelope's places in the record. Module state, so a read allocates nothing. */
export const head = {
  eventStart: 0,
  eventEnd: 0,
  userStart: 0,
  userEnd: 0,
  anonStart: -1,
  anonEnd: -1,
  ts: 0,
  idStart: 0,
  idEnd: 0,
  assigned: false,
  tenantStart: 0,
  tenantEnd: 0,
  receivedAt: 0,
  /** Offset after received_at's number: `,` before the first property, or `}`. */
  end: 0,
  /** A byte with the high bit set was seen (the record's UTF-8 is to be checked). */
  high: false,
}

// The number a scan last read.
let numValue = 0

/**
 * Reads the canonical envelope of b[s, end) into `head`; false when the record is not laid out so.
 * Strings are read as spans: none holds an escape or a control character.
 */
export function readHeader(b: Buffer, s: number, end: number): boolean {
  head.high = false
  let p = expect(b, s, end, EVENT)
  if (p < 0) return false
  head.eventStart = p
  p = plainString(b, p, end)
  if (p < 0) return false
  head.eventEnd = p
  p = expect(b, p, end, USER)
  if (p < 0) return false
  head.userStart = p
  p = plainString(b, p, end)
  if (p < 0) return false
  head.userEnd = p++
  head.anonStart = head.anonEnd = -1
  if (b[p + 2] === 0x61) {
    p = expect(b, p, end, ANON)
    if (p < 0) return false
    head.anonStart = p
    p = plainString(b, p, end)
    if (p < 0) return false
    head.anonEnd = p++
  }
  p = expect(b, p, end, TS)
  if (p < 0 || (p = number(b, p, end)) < 0) return false
  head.ts = numValue
  p = expect(b, p, end, EVENT_ID)
  if (p < 0) return false
  head.idStart = p
  p = plainString(b, p, end)
  if (p < 0) return false
  head.idEnd = p++
  head.assigned = b[p + 2] === 0x69
  if (head.assigned && (p = expect(b, p, end, ASSIGNED)) < 0) return false
  p = expect(b, p, end, TENANT)
  if (p < 0) return false
  head.tenantStart = p
  p = plainString(b, p, end)
  if (p < 0) return false
  head.tenantEnd = p++
  p = expect(b, p, end, RECEIVED)
  if (p < 0 || (p = number(b, p, end)) < 0) return false
  head.receivedAt = numValue
  head.end = p
  return true
}

/**
 * The dedupe facts of a stored JSON event in b[s, end) (src/ingest/dedupe-restore.ts): its tenant,
 * event_id, receive time and whether the server assigned the id; null when it is not a stored event.
 * The canonical layout is read from its bytes; any other stored event is parsed.
 */
export function storedIds(b: Buffer, s: number, end: number): { tenant: string; eventId: string; receivedAt: number; assigned: boolean } | null {
  if (readHeader(b, s, end)) {
    const h = head
    return { tenant: b.toString('utf8', h.tenantStart, h.tenantEnd), eventId: b.toString('utf8', h.idStart, h.idEnd), receivedAt: h.receivedAt, assigned: h.assigned }
  }
  let o: unknown
  try {
    o = JSON.parse(b.toString('utf8', s, end))
  } catch {
    return null
  }
  if (typeof o !== 'object' || o === null) return null
  const { tenant, event_id, received_at, id_assigned } = o as Record<string, unknown>
  if (typeof received_at !== 'number' || typeof event_id !== 'string' || (tenant !== undefined && typeof tenant !== 'string')) return null
  return { tenant: tenant ?? DEFAULT_TENANT, eventId: event_id, receivedAt: received_at, assigned: id_assigned === true }
}

// The previous record's name and tenant: the next one's are most often the same strings.
const eventNames = new RepeatedString()
const tenants = new RepeatedString()
/** The last tenant found valid. */
let validatedTenant = ''

/**
 * The canonical stored event in b[s, end) as an EventView whose properties are made when first
 * asked for; null when json-record.ts must decide (see the top comment).
 */
export function readCanonicalEvent(b: Buffer, s: number, end: number): TrackedEvent | null {
  if (!readHeader(b, s, end)) return null
  const h = head
  if (h.eventEnd === h.eventStart || h.userEnd === h.userStart) return null
  const walked = walkJsonProperties(b, h.end, end)
  if (walked < 0) return null
  if (h.high && !isUtf8(b.subarray(s, end))) return null
  const tenant = tenants.read(b, h.tenantStart, h.tenantEnd)
  if (tenant !== validatedTenant) {
    if (!validTenant(tenant)) return null
    validatedTenant = tenant
  }
  const event = eventNames.read(b, h.eventStart, h.eventEnd)
  const view = new JsonEventView(event, tenant, readShortString(b, h.userStart, h.userEnd), h.ts, h.receivedAt, null, b, h.idStart, h.idEnd, h.end, walked)
  if (h.anonStart >= 0) view.anonymous_id = readShortString(b, h.anonStart, h.anonEnd)
  return view
}

/** A canonical record's event: the properties from its JSON when first asked for. */
class JsonEventView extends EventView {
  override get properties(): Record<string, JsonValue> {
    return (this.props ??= decodeJsonProperties(this.bytes, this.propsAt))
  }

  override set properties(value: Record<string, JsonValue>) {
    this.props = value
  }
}

/**
 * Walks the properties from b[p] (`,"key":value` each, then `}` at end − 1): the bloom of their keys
 * (keyBloom's bits), or −1 when the reader leaves the record to json-record.ts.
 */
function walkJsonProperties(b: Buffer, p: number, end: number): number {
  let bloom = 0
  for (;;) {
    const c = b[p]
    if (c === 0x7d) return p + 1 === end ? bloom : -1
    if (c !== 0x2c || b[p + 1] !== 0x22) return -1
    const ks = p + 2
    const ke = plainString(b, ks, end)
    if (ke < 0 || b[ke + 1] !== 0x3a) return -1
    const n = ke - ks
    const k0 = b[ks]
    // A digit first: JSON.parse would order the key before the others.
    if (k0 !== undefined && k0 >= 0x30 && k0 <= 0x39) return -1
    if (notKey(b, ks, n)) return -1
    bloom |= keyBit(b, ks, n)
    p = value(b, ke + 2, end)
    if (p < 0) return -1
  }
}

/** The properties from b[p], as walkJsonProperties found them laid out. */
function decodeJsonProperties(b: Buffer, p: number): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {}
  const end = b.length
  while (b[p] === 0x2c) {
    const ks = p + 2
    const ke = plainString(b, ks, end)
    const key = readShortString(b, ks, ke)
    const vs = ke + 2
    const c = b[vs]
    let v: JsonValue
    if (c === 0x22) {
      p = stringValue(b, vs, end)
      v = escaped ? (JSON.parse(b.toString('utf8', vs, p)) as string) : readShortString(b, vs + 1, p - 1)
    } else if (c === 0x74) {
      v = true
      p = vs + 4
    } else if (c === 0x66) {
      v = false
      p = vs + 5
    } else if (c === 0x6e) {
      v = null
      p = vs + 4
    } else {
      p = number(b, vs, end)
      v = numValue
    }
    out[key] = v
  }
  return out
}

/** The scalar JSON value at b[p]: the offset after it, or −1 (a nested value, or not JSON). */
function value(b: Buffer, p: number, end: number): number {
  const c = b[p]
  if (c === 0x22) return stringValue(b, p, end)
  if (c === 0x74) return literal(b, p, end, 'true')
  if (c === 0x66) return literal(b, p, end, 'false')
  if (c === 0x6e) return literal(b, p, end, 'null')
  return number(b, p, end)
}

function literal(b: Buffer, p: number, end: number, text: string): number {
  if (p + text.length > end) return -1
  for (let i = 1; i < text.length; i++) if (b[p + i] !== text.charCodeAt(i)) return -1
  return p + text.length
}

// Whether the string stringValue last read holds an escape.
let escaped = false

/** The JSON string at b[p] ('"'), escapes checked as JSON.parse checks them: the offset after it, or −1. */
function stringValue(b: Buffer, p: number, end: number): number {
  escaped = false
  for (p++; p < end; p++) {
    const c = b[p]!
    if (c > 0x22 && c < 0x80 && c !== 0x5c) continue
    if (c === 0x22) return p + 1
    if (c < 0x20) return -1
    if (c >= 0x80) head.high = true
    else if (c === 0x5c) {
      escaped = true
      const e = b[++p]
      if (e === 0x75) {
        for (let i = 1; i <= 4; i++) if (!isHex(b[p + i])) return -1
        p += 4
      } else if (e !== 0x22 && e !== 0x5c && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return -1
    }
  }
  return -1
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66))
}

/** The text of a string with no escape, from b[p] to its closing quote: the quote's offset, or −1. */
function plainString(b: Buffer, p: number, end: number): number {
  for (; p < end; p++) {
    const c = b[p]!
    // Most bytes: printable ASCII other than the quote and the backslash.
    if (c > 0x22 && c < 0x80 && c !== 0x5c) continue
    if (c === 0x22) return p
    if (c === 0x5c || c < 0x20) return -1
    if (c >= 0x80) head.high = true
  }
  return -1
}

/**
 * The JSON number at b[p] (JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?) into
 * numValue: the offset after it, or −1. Integers of up to 15 digits are summed (exact); any other
 * text is read by Number, which rounds as JSON.parse does.
 */
function number(b: Buffer, p: number, end: number): number {
  const start = p
  if (b[p] === 0x2d) p++
  let c = b[p]
  if (c === 0x30) c = b[++p]
  else if (c !== undefined && c >= 0x31 && c <= 0x39) {
    let v = 0
    do {
      v = v * 10 + c - 0x30
      c = b[++p]
    } while (c !== undefined && c >= 0x30 && c <= 0x39)
    if (c !== 0x2e && c !== 0x65 && c !== 0x45 && p - start <= 15) {
      numValue = b[start] === 0x2d ? -v : v
      // Digits read past the record's end were another record's.
      return p <= end ? p : -1
    }
  } else return -1
  if (c === 0x2e) {
    if (!digits(b, ++p)) return -1
    while (isDigit(b[p])) p++
    c = b[p]
  }
  if (c === 0x65 || c === 0x45) {
    c = b[++p]
    if (c === 0x2b || c === 0x2d) p++
    if (!digits(b, p)) return -1
    while (isDigit(b[p])) p++
  }
  if (p > end) return -1
  numValue = Number((b as Latin1).latin1Slice(start, p))
  return Number.isFinite(numValue) ? p : -1
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39
}

function digits(b: Buffer, p: number): boolean {
  return isDigit(b[p])
}

/** b[p, …) starts with `lit`: the offset after it, or −1. */
function expect(b: Buffer, p: number, end: number, l: Buffer): number {
  if (p + l.length > end) return -1
  for (let i = 0; i < l.length; i++) if (b[p + i] !== l[i]) return -1
  return p + l.length
}
