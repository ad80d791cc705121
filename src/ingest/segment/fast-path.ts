import { isUtf8 } from 'node:buffer'
import { CODEC, DEFAULT_LIMITS, ORIGINAL_TS, resolveEventTime, resolvedEventTime } from '../../events/index.ts'
import { ElementEncoder, FALLBACK, type FastPathOptions } from '../fast-path-encoder.ts'
import { isEventName, keyMatcher } from '../fast-path-bytes.ts'
import { MAX_ID_UNITS, type Span } from '../fast-path-event.ts'
import { REQUEST_ID_LENGTH } from '../ids.ts'
import type { IngestBatch } from '../batch.ts'
import { SYNTAX, TOO_DEEP, num, scanLiteral, scanNumber, scanString, skipJson, skipValue, str } from '../json-bytes.ts'
import { SEGMENT_ENVELOPE, TAKEN_NAMES, fromSegment, segmentError } from './message.ts'
import { readTime, time, topLevel, type TopLevel } from './batch-envelope.ts'
import { contextOf } from './context-property.ts'

/*
 * POST /v1/batch read byte by byte, as the collector's fast path (../fast-path.ts) reads our own
 * format: each message of the Segment tracking spec written straight into the binary encoding of
 * the event fromSegment and validateEvent make of it, with no JSON.parse and no object per message.
 * It reads the messages SDKs send most: `track`, `identify`, `page` and `screen` calls with flat
 * properties or traits, string or integer ids, a messageId, a timestamp or originalTimestamp
 * (ISO-8601 or epoch ms; corrected by the message's or the batch's sentAt, the client's value kept
 * as original_ts, as validate.ts does), a context object, other scalar fields (channel …), a page's
 * name and category, and the delivery fields the mapping drops (integrations, _metadata …). Every
 * other message (group, alias, nested properties, escapes in envelope fields or keys, duplicate or
 * digit-led keys, names the mapping renames, a page's name beside a different property `name`,
 * anything the mapping or validation would refuse) takes the general path on its own, in its place,
 * sharing the request's ids and claims. A body of another shape (not {"batch": [...]}, a bad or
 * repeated sentAt, too many messages, not UTF-8 or not JSON) is declined whole and the general path
 * words the answer.
 */

const { T_JSON, T_NUMBER } = CODEC
const LIMITS = DEFAULT_LIMITS
/** validate.ts corrects and clamps event times when the limits bound how far ahead they may be. */
const SERVER_CLOCK = Number.isFinite(LIMITS.maxFutureMs)

// The message fields read here, then the rest of the mapping's envelope (read past, kept nowhere).
const READ = ['type', 'event', 'userId', 'anonymousId', 'messageId', 'timestamp', 'originalTimestamp', 'sentAt', 'properties', 'traits', 'context', 'name', 'category'] as const
/** Each read field's number: its place in READ, from 1 (messageField answers 0 for a key of no field). */
const F = Object.fromEntries(READ.map((name, i) => [name, i + 1])) as Record<(typeof READ)[number], number>
const messageField = keyMatcher([...READ, ...SEGMENT_ENVELOPE.filter((f) => !(READ as readonly string[]).includes(f))])
/** Names the mapping gives a leading `_` when a property has them: such a message takes the general path. */
const taken = keyMatcher(TAKEN_NAMES)
const isOriginalTs = keyMatcher([ORIGINAL_TS])
/** A page's or screen's own fields, which the mapping sets over a property of the same name. */
const isCallField = keyMatcher(['name', 'category'])

// The calls read here, by number (TRACK …; 0: another); the others' event name is the call's type.
const CALLS = ['track', 'identify', 'page', 'screen'] as const
const [TRACK, IDENTIFY, PAGE, SCREEN] = [1, 2, 3, 4] as const
const callOf = keyMatcher(CALLS)
const CALL_NAMES = CALLS.map((c) => Buffer.from(c))
// What `member` is reading: a message's own fields, or its properties/traits.
const MESSAGE = 0
const BAG = 1
const CONTEXT_KEY = Buffer.from('context')
const ORIGINAL_TS_KEY = Buffer.from(ORIGINAL_TS)

/** Top-level fields besides properties/traits kept as properties (`channel` …), at most this many a message. */
const MAX_EXTRAS = 16
const exKs = new Int32Array(MAX_EXTRAS)
const exKe = new Int32Array(MAX_EXTRAS)
const exUnits = new Int32Array(MAX_EXTRAS)
const exValue = new Int32Array(MAX_EXTRAS)

/**
 * Sorts and encodes a POST /v1/batch body in one pass, or returns null when the body is not one this
 * path reads (the caller then runs parseSegmentJson and sortBatch, which give the answer). Claims
 * dedupe keys like sortBatch; a declined body has released its claims.
 */
export function encodeSegmentBatch(bytes: Buffer, options: FastPathOptions): IngestBatch | null {
  if (!isUtf8(bytes)) return null
  const top = topLevel(bytes)
  return top === null ? null : new BatchEncoder(bytes, options, top).run()
}

class BatchEncoder extends ElementEncoder {
  private readonly sentAt: number | undefined
  // The message being read.
  private seen = 0
  private type = 0
  private readonly sentEvent = { start: -1, end: -1 }
  private bag = [-1, -1, -1, -1]
  private contextStart = -1
  private contextEnd = -1
  private extras = 0
  /** The message's time fields as sent: timestamp, originalTimestamp, sentAt (`time`'s k). */
  private readonly times: Array<string | number | undefined> = [undefined, undefined, undefined]
  /** A property named original_ts was read (validate.ts replaces it when the time changes). */
  private ownOriginalTs = false
  /** Where the properties' own name and category values start (−1: none): a page's or screen's own field may meet them. */
  private readonly bagCallField = new Int32Array(2)
  /** A page's or screen's name and category: key span, its units, and the value's offset (−1 none or null, −2 nested). */
  private readonly callField = new Int32Array(8)

  private readonly batchAt: number

  constructor(b: Buffer, o: FastPathOptions, top: TopLevel) {
    super(b, o, top.sentAt)
    this.sentAt = top.sentAt
    this.batchAt = top.batch
  }

  run(): IngestBatch | null {
    if (!this.begin()) return null
    return this.elements(this.batchAt) < 0 ? null : this.out
  }

  /** Reads the message at b[i] ('{'): the offset after it, FALLBACK (or TOO_DEEP), or SYNTAX. */
  protected element(i: number): number {
    this.resetElement()
    this.seen = 0
    this.type = 0
    this.sentEvent.start = -1
    this.bag[0] = this.bag[2] = -1
    this.contextStart = -1
    this.extras = 0
    this.times[0] = this.times[1] = this.times[2] = undefined
    this.ownOriginalTs = false
    this.bagCallField[0] = this.bagCallField[1] = -1
    this.callField[3] = this.callField[7] = -1
    const end = this.object(i, MESSAGE, false)
    return end < 0 ? end : this.finish(end)
  }

  /** A member of a message (an envelope field, or another field kept as a property) or of its properties/traits. */
  member(kind: number, ks: number, ke: number, keyUnits: number, i: number): number {
    const b = this.b
    if (kind === MESSAGE) {
      const field = messageField(b, ks, ke)
      if (field === F.name || field === F.category) return this.callFieldAt(field === F.name ? 0 : 4, ks, ke, keyUnits, i)
      return field === 0 ? this.extra(ks, ke, keyUnits, i) : this.field(field, i)
    }
    if (taken(b, ks, ke) !== 0) return FALLBACK
    if (isOriginalTs(b, ks, ke) !== 0) this.ownOriginalTs = true
    const call = isCallField(b, ks, ke)
    if (call !== 0) this.bagCallField[call - 1] = i
    return this.property(ks, ke, keyUnits, i)
  }

  /** The value at b[i] of envelope field `field`: the offset after it, FALLBACK or SYNTAX. */
  private field(field: number, i: number): number {
    const { b, n } = this
    const bit = 1 << field
    // A repeated field: JSON.parse keeps the last, the general path has that rule.
    if ((this.seen & bit) !== 0) return FALLBACK
    this.seen |= bit
    const c = b[i]
    switch (field) {
      case F.type: {
        if (c !== 0x22) return FALLBACK
        const end = scanString(b, i, n)
        if (end === SYNTAX) return SYNTAX
        this.type = callOf(b, i + 1, end - 1)
        if (this.type === 0) return FALLBACK
        return end
      }
      case F.event: {
        if (c !== 0x22) return FALLBACK
        const end = scanString(b, i, n)
        if (end === SYNTAX) return SYNTAX
        if (str.escaped) return FALLBACK
        this.sentEvent.start = i + 1
        this.sentEvent.end = end - 1
        return end
      }
      case F.userId:
        return this.id(this.userId, i, true)
      case F.anonymousId:
        return this.id(this.anonymousId, i, true)
      case F.messageId:
        return this.id(this.eventId, i, false)
      case F.timestamp:
      case F.originalTimestamp:
      case F.sentAt:
        // A message's own sentAt (RudderStack's SDK sets one on every message) wins over the batch's.
        return this.time(field === F.timestamp ? 0 : field === F.originalTimestamp ? 1 : 2, i)
      case F.properties:
      case F.traits:
      case F.context: {
        if (c === 0x6e) return scanLiteral(b, i)
        if (c !== 0x7b) return FALLBACK
        // Read (strictly) once the type says which bag counts; here only its extent.
        const end = skipValue(b, i, n)
        if (end === SYNTAX) return SYNTAX
        if (field === F.context) {
          this.contextStart = i
          this.contextEnd = end
        } else {
          const at = field === F.properties ? 0 : 2
          this.bag[at] = i
          this.bag[at + 1] = end
        }
        return end
      }
      default: {
        // Delivery fields the mapping drops: only checked to be JSON.
        const end = skipJson(b, i, n)
        return end === TOO_DEEP ? FALLBACK : end
      }
    }
  }

  /**
   * A page's or screen's name (at 0) or category (at 4) at b[i], key b[ks, ke): checked to be JSON
   * and kept for finish, which makes it a property of those calls (the others drop it).
   */
  private callFieldAt(at: number, ks: number, ke: number, keyUnits: number, i: number): number {
    const bit = 1 << (at === 0 ? F.name : F.category)
    if ((this.seen & bit) !== 0) return FALLBACK
    this.seen |= bit
    const end = skipJson(this.b, i, this.n)
    if (end < 0) return end === TOO_DEEP ? FALLBACK : end
    const c = this.b[i]
    const f = this.callField
    f[at] = ks
    f[at + 1] = ke
    f[at + 2] = keyUnits
    f[at + 3] = c === 0x6e ? -1 : c === 0x7b || c === 0x5b ? -2 : i
    return end
  }

  /** userId, anonymousId (`person`: "" and null are absent, an integer is kept as text) or messageId (null is absent) at b[i]. */
  private id(span: Span, i: number, person: boolean): number {
    const { b, n } = this
    const c = b[i]
    if (c === 0x6e) return scanLiteral(b, i)
    if (c === 0x22) {
      const end = scanString(b, i, n)
      if (end === SYNTAX) return SYNTAX
      if (str.escaped) return FALLBACK
      const units = str.units
      if (units === 0 && person) return end
      if (units === 0 || units > MAX_ID_UNITS) return FALLBACK
      span.set(i + 1, end - 1, units, str.ascii)
      return end
    }
    if (person && (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39))) {
      const end = scanNumber(b, i)
      if (end === SYNTAX) return SYNTAX
      // An integer identity is kept as String(v): the literal itself when it is plain.
      if (!num.plainInt || !Number.isSafeInteger(num.value)) return FALLBACK
      span.set(i, end, end - i, true)
      return end
    }
    return FALLBACK
  }

  /** timestamp (k 0), originalTimestamp (k 1) or sentAt (k 2) at b[i]: kept as sent, resolved in finish. */
  private time(k: number, i: number): number {
    const end = readTime(this.b, i, this.n)
    if (end >= 0) this.times[k] = time.value
    return end
  }

  /** Another top-level field (kept as a property after the bag's): a scalar, checked here, encoded in finish. */
  private extra(ks: number, ke: number, keyUnits: number, i: number): number {
    const { b, n } = this
    if (this.extras >= MAX_EXTRAS || taken(b, ks, ke) !== 0) return FALLBACK
    if (isOriginalTs(b, ks, ke) !== 0) this.ownOriginalTs = true
    const c = b[i]
    let end: number
    if (c === 0x22) end = scanString(b, i, n)
    else if (c === 0x74 || c === 0x66 || c === 0x6e) end = scanLiteral(b, i)
    else if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) end = scanNumber(b, i)
    else return c === 0x7b || c === 0x5b ? FALLBACK : SYNTAX
    const x = this.extras++
    exKs[x] = ks
    exKe[x] = ke
    exUnits[x] = keyUnits
    exValue[x] = i
    return end
  }

  /** What the mapping and validateEvent require of the whole message, and its properties in their order. */
  private finish(end: number): number {
    const { b } = this
    if (this.type === TRACK) {
      const { start, end: e } = this.sentEvent
      // Names the mapping rewrites (and keeps as original_event) take the general path.
      if (start < 0 || !isEventName(b, start, e)) return FALLBACK
      this.event.set(start, e, e - start, true)
      this.eventBytes = b
    } else {
      // The call's type is the event's name.
      const name = CALL_NAMES[this.type - 1]
      if (name === undefined) return FALLBACK
      this.event.set(0, name.length, name.length, true)
      this.eventBytes = name
    }
    const { userId, anonymousId, eventId } = this
    if (!userId.present && !anonymousId.present) return FALLBACK

    // Properties as fromSegment lays them out: the bag's, the other top-level fields, context, and a
    // page's or screen's name and category.
    const at = this.type === IDENTIFY ? 2 : 0
    const other = 2 - at
    if (this.bag[other]! >= 0 && skipJson(b, this.bag[other]!, this.n) !== this.bag[other + 1]) return FALLBACK
    if (this.bag[at]! >= 0) {
      const r = this.readBag(this.bag[at]!, this.bag[at + 1]!)
      if (r < 0) return r
    }
    for (let x = 0; x < this.extras; x++) {
      const r = this.property(exKs[x]!, exKe[x]!, exUnits[x]!, exValue[x]!)
      if (r < 0) return r
    }
    // Validation counts each property and each value nested in one.
    let items = 0
    if (this.contextStart >= 0) {
      const ctx = contextOf(b, this.contextStart, this.contextEnd)
      if (ctx === null) return SYNTAX
      if (!ctx.ok) return FALLBACK
      this.budget += ctx.bytes
      items += ctx.items - 1
      this.madeProperty(CONTEXT_KEY, T_JSON, ctx.json)
    }
    if (this.type === PAGE || this.type === SCREEN) {
      const f = this.callField
      for (let c = 0; c < 8; c += 4) {
        const value = f[c + 3]!
        if (value === -1) continue
        if (value === -2) return FALLBACK
        // Beside a property of its name: kept once when equal (analytics-node copies a page's
        // category into its properties), else the property moves to _name: the general path.
        const own = this.bagCallField[c >> 2]!
        if (own >= 0) {
          if (!this.sameValue(own, value)) return FALLBACK
          continue
        }
        const r = this.property(f[c]!, f[c + 1]!, f[c + 2]!, value)
        if (r < 0) return r
      }
    }
    if (items + this.propCount > LIMITS.maxProperties) return FALLBACK

    // The event time: validate.ts's own rule (client-time.ts), on the values as sent.
    const [timestamp, originalTimestamp, sentAt] = this.times
    if (resolveEventTime(timestamp ?? originalTimestamp, sentAt, this.o.receivedAt, LIMITS.maxFutureMs, SERVER_CLOCK, this.sentAt) !== null) return FALLBACK
    this.ts = resolvedEventTime.ts
    if (resolvedEventTime.changed) {
      // validate.ts replaces a client's own original_ts in its place: the general path does that.
      if (this.ownOriginalTs) return FALLBACK
      this.madeProperty(ORIGINAL_TS_KEY, T_NUMBER, resolvedEventTime.client)
    }

    this.budget += this.event.length + (eventId.present ? eventId.units : REQUEST_ID_LENGTH) + (userId.present ? userId.units : 0) + (anonymousId.present ? anonymousId.units : 0)
    return this.budget > LIMITS.maxEventBytes ? FALLBACK : end
  }

  /** The JSON values at b[x] and b[y] are certainly equal: the same bytes, and no escape that could spell one differently. */
  private sameValue(x: number, y: number): boolean {
    const { b, n } = this
    const xe = skipJson(b, x, n)
    const len = xe - x
    if (xe < 0 || skipJson(b, y, n) - y !== len || b[x] === 0x7b || b[x] === 0x5b) return false
    for (let k = 0; k < len; k++) if (b[x + k] !== b[y + k] || b[x + k] === 0x5c) return false
    return true
  }

  /** The properties (or traits) object b[start, end) as top-level properties. */
  private readBag(start: number, end: number): number {
    const r = this.object(start, BAG, true)
    return r < 0 || r === end ? r : SYNTAX
  }

  /** A message this path does not read, taken exactly as parseSegmentJson and sortBatch take it. false: decline the body. */
  protected slowElement(start: number, end: number, index: number): boolean {
    const raw = this.b.subarray(start, end)
    let item: unknown
    try {
      item = JSON.parse(this.b.toString('utf8', start, end))
    } catch {
      return false
    }
    const mapped = fromSegment(item, null)
    if (!mapped.ok) {
      this.out.validated++
      this.sorter.reject(index, mapped.error, raw)
      return true
    }
    const r = this.sorter.check(mapped.candidate)
    if (r === null) return true
    if (!r.ok) {
      this.sorter.reject(index, segmentError(item, null, r.error), raw)
      return true
    }
    // An event that cannot be encoded: declined, and the general path fails the request at append time (503).
    return this.sorter.add(r.event)
  }
}
