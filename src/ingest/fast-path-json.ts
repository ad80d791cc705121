import { JSON_LAYOUT } from '../events/json-layout.ts'
import { copy, copyWords } from './fast-path-bytes.ts'
import { REQUEST_ID_LENGTH, type RequestIds } from './ids.ts'

/*
 * The fast path's output in the JSON format (src/events/events-format.ts): the element just read
 * written as the canonical JSON record (src/events/json-writer.ts) straight from the body's bytes,
 * with no JSON.parse and no object per event — the exact bytes encodeEventJson gives for the event
 * validateEvent makes. Its properties were written as `,"key":value` by the reader
 * (ElementEncoder.property, in JSON mode), numbers formatted as JSON.stringify formats them and
 * strings copied only when they hold no escape (an escaped one takes the slow path), so the bytes
 * never depend on how the client spelled a value. ./fast-path-event.ts calls this in JSON mode.
 */

// The layout cut at the quotes this writer copies the strings between.
const L = JSON_LAYOUT
const lit = (s: string): Buffer => Buffer.from(s)
const EVENT = lit(`${L.event}"`)
const USER = lit(`"${L.userId}"`)
const ANON = lit(`"${L.anonymousId}"`)
const TS = lit(`"${L.ts}`)
const EVENT_ID = lit(`${L.eventId}"`)
const ASSIGNED = lit(`"${L.assigned}`)
const TENANT = lit(L.tenant)
const RECEIVED = lit(L.receivedAt)
const QUOTE = 0x22

/** What the JSON writer needs of the element just read (ReadElement's spans). */
export interface JsonElement {
  readonly event: { start: number; end: number }
  readonly eventBytes: Buffer
  readonly bodyView: DataView
  readonly userId: { start: number; end: number; present: boolean }
  readonly anonymousId: { start: number; end: number; present: boolean }
  readonly eventId: { start: number; end: number; present: boolean }
  readonly ts: number
  readonly propLen: number
}

/** Longest text numberText writes: a double's shortest form is at most 24 characters. */
const MAX_NUMBER = 24

/** The request's tenant as a JSON string (JSON.stringify's bytes), set by startJsonRequest. */
let tenantJson = lit('"default"')

export function startJsonRequest(tenant: string): void {
  tenantJson = Buffer.from(JSON.stringify(tenant))
}

/** An upper bound of the bytes writeJson writes (the writer returns the exact end). */
export function jsonSize(e: JsonElement, madeIdLength: number): number {
  const id = e.userId.present ? e.userId : e.anonymousId
  const anon = e.anonymousId
  const eid = e.eventId.present ? e.eventId.end - e.eventId.start : madeIdLength
  return (
    EVENT.length +
    (e.event.end - e.event.start) +
    USER.length +
    (id.end - id.start) +
    (anon.present ? ANON.length + anon.end - anon.start : 0) +
    TS.length +
    MAX_NUMBER +
    EVENT_ID.length +
    eid +
    ASSIGNED.length +
    TENANT.length +
    tenantJson.length +
    RECEIVED.length +
    MAX_NUMBER +
    e.propLen +
    1
  )
}

/**
 * Writes the element's canonical JSON record at s[start] (room made: jsonSize) and returns its end.
 * `props`: the properties as the reader wrote them. An event without a client id gets `ids`' next
 * id, or with `ids` null madeId[0, madeLength).
 */
export function writeJson(
  s: Buffer,
  sv: DataView,
  start: number,
  b: Buffer,
  e: JsonElement,
  receivedAt: number,
  ids: RequestIds | null,
  madeId: Buffer | null,
  madeLength: number,
  props: Buffer,
  propsView: DataView,
): number {
  const bv = e.bodyView
  const id = e.userId.present ? e.userId : e.anonymousId
  let pos = start + copy(EVENT, 0, EVENT.length, s, start)
  pos += copyWords(e.eventBytes, e.eventBytes === b ? bv : null, e.event.start, e.event.end, s, sv, pos)
  pos += copy(USER, 0, USER.length, s, pos)
  pos += copyWords(b, bv, id.start, id.end, s, sv, pos)
  if (e.anonymousId.present) {
    pos += copy(ANON, 0, ANON.length, s, pos)
    pos += copyWords(b, bv, e.anonymousId.start, e.anonymousId.end, s, sv, pos)
  }
  pos += copy(TS, 0, TS.length, s, pos)
  pos = numberText(s, pos, e.ts)
  pos += copy(EVENT_ID, 0, EVENT_ID.length, s, pos)
  if (e.eventId.present) {
    pos += copyWords(b, bv, e.eventId.start, e.eventId.end, s, sv, pos)
    s[pos++] = QUOTE
  } else {
    if (ids !== null) {
      ids.writeNext(sv, pos)
      pos += REQUEST_ID_LENGTH
    } else pos += copy(madeId!, 0, madeLength, s, pos)
    pos += copy(ASSIGNED, 0, ASSIGNED.length, s, pos)
  }
  pos += copy(TENANT, 0, TENANT.length, s, pos)
  pos += copy(tenantJson, 0, tenantJson.length, s, pos)
  pos += copy(RECEIVED, 0, RECEIVED.length, s, pos)
  pos = numberText(s, pos, receivedAt)
  pos += copyWords(props, propsView, 0, e.propLen, s, sv, pos)
  s[pos++] = 0x7d
  return pos
}

/**
 * Writes the finite number v as JSON.stringify spells it (-0 as `-0`, as json-writer.ts keeps its
 * sign) at s[pos]; returns the offset after it. Safe integers, nearly every time and number, digit by digit.
 */
export function numberText(s: Buffer, pos: number, v: number): number {
  if (Number.isSafeInteger(v) && (v !== 0 || 1 / v > 0)) {
    let n = v
    if (n < 0) {
      s[pos++] = 0x2d
      n = -n
    }
    let digits = 1
    for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++
    for (let i = pos + digits - 1; i >= pos; i--) {
      s[i] = 0x30 + (n % 10)
      n = Math.floor(n / 10)
    }
    return pos + digits
  }
  const text = v === 0 ? '-0' : String(v)
  return pos + s.write(text, pos, 'latin1')
}

/** The most numberText can write. */
export const NUMBER_ROOM = MAX_NUMBER
