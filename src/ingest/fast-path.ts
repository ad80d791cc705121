import { isUtf8 } from 'node:buffer'
import { DEFAULT_LIMITS, MIN_EVENT_TIME, parseEventTime } from '../events/index.ts'
import { ElementEncoder, FALLBACK, type FastPathOptions } from './fast-path-encoder.ts'
import { F_ANON, F_EVENT, F_EVENT_ID, F_SENT_AT, F_SERVER, F_TENANT, F_TS, F_USER, isEventName, reservedField } from './fast-path-bytes.ts'
import { MAX_ID_UNITS, type Span } from './fast-path-event.ts'
import { REQUEST_ID_LENGTH } from './ids.ts'
import type { IngestBatch } from './batch.ts'
import { SYNTAX, num, scanLiteral, scanNumber, scanString, skipWs, str } from './json-bytes.ts'

/*
 * The collector's fast path (issue #4): a JSON array body (or {"batch": [...]}) read once, byte by
 * byte, each event written straight into its binary encoding — the exact bytes encodeEvent gives for
 * the event validateEvent makes — and grouped by partition, with no JSON.parse and no object per
 * event. It reads the common shape only: an object of envelope fields and flat properties. Any other
 * element (nested values, escapes in envelope fields, a digit-led key, a duplicate key, a `sent_at`
 * or a ts later than the receive time — the server changes those times —, anything validation would
 * refuse) takes the slow path on its own: JSON.parse of its bytes, validateEvent,
 * encodeEvent, in its place in the request, sharing the request's id generator and dedupe claims, so
 * ids, order, rejections and dead letters are what sortBatch gives. A body that is not valid JSON or
 * UTF-8, has too many events, or has another shape (a {"batch": [...]} with a `sent_at` beside it
 * among them) is declined whole (null) and the caller takes today's path, which words the error.
 */

export type { FastPathOptions }

const BATCH = Buffer.from('"batch"')
const LIMITS = DEFAULT_LIMITS

type Latin1 = Buffer & { latin1Slice(start: number, end: number): string }

/**
 * Sorts and encodes a POST /v1/events JSON body in one pass, or returns null when the body is not
 * one this path reads (the caller then runs parseEventsJson and sortBatch, which give the answer).
 * Claims dedupe keys like sortBatch; a declined body has released its claims.
 */
export function encodeEventsBody(bytes: Buffer, options: FastPathOptions): IngestBatch | null {
  return new BodyEncoder(bytes, options).run()
}

export class BodyEncoder extends ElementEncoder {
  /** Envelope fields seen so far, as F_* bits. */
  private seen = 0

  run(): IngestBatch | null {
    const { b, n } = this
    if (!isUtf8(b) || !this.begin()) return null
    let i = n >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0
    i = skipWs(b, i, n)
    const batch = b[i] === 0x7b
    if (batch) {
      i = skipWs(b, i + 1, n)
      if (!b.subarray(i, i + BATCH.length).equals(BATCH)) return null
      i = skipWs(b, i + BATCH.length, n)
      if (b[i] !== 0x3a) return null
      i = skipWs(b, i + 1, n)
    }
    if (b[i] !== 0x5b) return null
    i = this.elements(i)
    if (i < 0) return null
    if (batch) {
      i = skipWs(b, i, n)
      if (b[i] !== 0x7d) return this.decline()
      i++
    }
    return skipWs(b, i, n) === n ? this.out : this.decline()
  }

  /** Reads the object at b[i] ('{'): the offset after it, FALLBACK, or SYNTAX. */
  protected element(i: number): number {
    this.seen = 0
    this.resetElement()
    const end = this.object(i, 0, false)
    if (end < 0) return end
    // What validateEvent requires of the whole; the slow path words the error.
    const { event, userId, anonymousId, eventId } = this
    if ((this.seen & F_EVENT) === 0 || (!userId.present && !anonymousId.present) || (!this.tsRead && this.o.requireTs === true)) return FALLBACK
    this.budget += event.length + (eventId.present ? eventId.units : REQUEST_ID_LENGTH) + (userId.present ? userId.units : 0) + (anonymousId.present ? anonymousId.units : 0)
    return this.budget > LIMITS.maxEventBytes ? FALLBACK : end
  }

  /** A member of an element: an envelope field, or a property. */
  member(_kind: number, ks: number, ke: number, keyUnits: number, i: number): number {
    const field = reservedField(this.b, ks, ke)
    return field !== 0 ? this.reserved(field, i) : this.property(ks, ke, keyUnits, i)
  }

  /** An envelope field's value at b[i]: the offset after it, FALLBACK or SYNTAX. */
  private reserved(field: number, i: number): number {
    const { b, n } = this
    // sent_at corrects the event time (validate.ts), as does a ts later than the receive time (a
    // clamp, and the property original_ts): rare enough for the slow path, which has the rules once.
    if (field === F_SENT_AT || (field & F_SERVER) !== 0 || (this.seen & field) !== 0) return FALLBACK
    this.seen |= field
    const c = b[i]
    if (c === 0x6e) {
      // null: an absent field for all but event and tenant.
      const end = scanLiteral(b, i)
      return end === SYNTAX ? SYNTAX : field === F_EVENT || field === F_TENANT ? FALLBACK : end
    }
    if (c === 0x22) {
      const end = scanString(b, i, n)
      if (end === SYNTAX) return SYNTAX
      if (str.escaped) return FALLBACK
      const s = i + 1
      const e = end - 1
      const units = str.units
      if (field === F_EVENT) {
        if (!isEventName(b, s, e)) return FALLBACK
        this.event.set(s, e, units, true)
        return end
      }
      const id = this.idSpan(field)
      if (id !== null) {
        if (units === 0 || units > MAX_ID_UNITS) return FALLBACK
        id.set(s, e, units, str.ascii)
        return end
      }
      if (field === F_TENANT) return this.tenantBytes.equals(b.subarray(s, e)) ? end : FALLBACK
      // ts as an ISO-8601 string: rare enough to go through parseEventTime itself.
      if (!str.ascii) return FALLBACK
      const t = parseEventTime((b as Latin1).latin1Slice(s, e))
      if (!t.ok || t.ms > (this.o.latestTs ?? this.o.receivedAt)) return FALLBACK
      this.ts = t.ms
      this.tsRead = true
      return end
    }
    if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) {
      const end = scanNumber(b, i)
      if (end === SYNTAX) return SYNTAX
      const v = num.value
      if (field === F_TS) {
        // Not finite (1e400 reads as Infinity): parseEventTime refuses it, so the slow path words it.
        if (!(v >= MIN_EVENT_TIME) || v === Number.POSITIVE_INFINITY) return FALLBACK
        const ms = Math.floor(v)
        if (ms > (this.o.latestTs ?? this.o.receivedAt)) return FALLBACK
        this.ts = ms
        this.tsRead = true
        return end
      }
      // An integer identity is kept as String(v): the literal itself when it is plain.
      if ((field !== F_USER && field !== F_ANON) || !num.plainInt || !Number.isSafeInteger(v)) return FALLBACK
      this.idSpan(field)!.set(i, end, end - i, true)
      return end
    }
    return c === 0x74 || c === 0x66 || c === 0x7b || c === 0x5b ? FALLBACK : SYNTAX
  }

  /** The span an identity field (user_id, anonymous_id, event_id) is read into; null for other fields. */
  private idSpan(field: number): Span | null {
    return field === F_USER ? this.userId : field === F_ANON ? this.anonymousId : field === F_EVENT_ID ? this.eventId : null
  }

  /** An element this path does not read, taken exactly as sortBatch and appendEvents take it. false: decline the body. */
  protected slowElement(start: number, end: number, index: number): boolean {
    const b = this.b
    let item: unknown
    try {
      item = JSON.parse(b.toString('utf8', start, end))
    } catch {
      return false
    }
    const r = this.sorter.check(item)
    if (r === null) return true
    if (!r.ok) {
      this.sorter.reject(index, r.error, b.subarray(start, end))
      return true
    }
    // An event that cannot be encoded: declined, and the general path fails the request at append time (503).
    return this.sorter.add(r.event)
  }
}
