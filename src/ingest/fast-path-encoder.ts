import { CODEC, DEFAULT_EVENTS_FORMAT, DEFAULT_LIMITS, SIZE_ESTIMATE, type EventsFormat } from '../events/index.ts'
import type { Deduper } from './dedupe.ts'
import { copy, copyWords, isProtoKey, viewOf } from './fast-path-bytes.ts'
import { NUMBER_ROOM, numberText } from './fast-path-json.ts'
import { KeySet } from './key-set.ts'
import { Span, groupElement, props, startRequest, type ReadElement } from './fast-path-event.ts'
import type { RequestIds } from './ids.ts'
import { emptyBatch, type IngestBatch } from './batch.ts'
import { RequestSorter } from './sorter.ts'
import { SYNTAX, num, scanLiteral, scanNumber, scanString, skipValue, skipWs, str, unescapeInto } from './json-bytes.ts'

/*
 * What the byte-level readers of request bodies share (ours, ./fast-path.ts, and the Segment spec's,
 * ./segment/fast-path.ts): the element being read (ReadElement), its flat properties written
 * straight into their binary encoding with validate.ts's bounds, the request's sorter, and how a
 * read element is committed (its client id claimed, then encoded into its partition's group).
 */

export interface FastPathOptions {
  tenant: string
  receivedAt: number
  /**
   * Latest event time read here; a later one takes the slow path (the collector clamps it to the
   * receive time). Default receivedAt; a replay, which has no server clock, has no bound.
   */
  latestTs?: number
  /** An element without a ts takes the slow path (a replay refuses it: a file has no receive time). */
  requireTs?: boolean
  /**
   * A string escaping a surrogate (`\\ud83d`) takes the slow path. The log's encoding is UTF-8, where
   * a lone surrogate becomes U+FFFD; a replay, which keeps a file's strings exactly, holds such an
   * event as JSON instead.
   */
  surrogatesSlow?: boolean
  partitions: number
  maxEvents: number
  /** Claims client event ids; null where duplicates are not dropped (file ingest). */
  deduper: Deduper | null
  ids: RequestIds
  /** Dead letters' source (RequestSorter's); default HTTP. */
  source?: string
  /** How accepted events are stored (src/events/events-format.ts); default DEFAULT_EVENTS_FORMAT. */
  eventsFormat?: EventsFormat
}

/** This element is not read here: it takes the slow path by itself. */
export const FALLBACK = -2

const { T_NULL, T_FALSE, T_TRUE, T_NUMBER, T_STRING } = CODEC
const LIMITS = DEFAULT_LIMITS

// The element's property keys so far (a repeated key sends it to the slow path).
const keys = new KeySet(LIMITS.maxProperties)

type Latin1 = Buffer & { latin1Slice(start: number, end: number): string }

/** What readObject hands each member to. */
export interface MemberReader {
  /** One member: key b[ks, ke), value at b[i]; the offset after the value, FALLBACK or SYNTAX. */
  member(kind: number, ks: number, ke: number, keyUnits: number, i: number): number
}

/**
 * Reads the object at b[i] ('{') member by member: each key (escaped keys take the slow path) and
 * the offset of its value go to `reader.member(kind, …)`, which returns the offset after the value.
 * The offset after the '}', FALLBACK or SYNTAX; an empty object is FALLBACK unless `emptyOk`.
 */
export function readObject(b: Buffer, i: number, n: number, kind: number, emptyOk: boolean, reader: MemberReader): number {
  i = skipWs(b, i + 1, n)
  if (b[i] === 0x7d) return emptyOk ? i + 1 : FALLBACK
  for (;;) {
    if (b[i] !== 0x22) return SYNTAX
    const ks = i + 1
    i = scanString(b, i, n)
    if (i === SYNTAX) return SYNTAX
    if (str.escaped) return FALLBACK
    const ke = i - 1
    const keyUnits = str.units
    i = skipWs(b, i, n)
    if (b[i] !== 0x3a) return SYNTAX
    i = reader.member(kind, ks, ke, keyUnits, skipWs(b, i + 1, n))
    if (i < 0) return i
    i = skipWs(b, i, n)
    if (b[i] === 0x2c) {
      i = skipWs(b, i + 1, n)
      continue
    }
    return b[i] === 0x7d ? i + 1 : SYNTAX
  }
}

export abstract class ElementEncoder implements ReadElement, MemberReader {
  /** End of what is being read: the body, or the line a line reader is on. */
  protected n: number
  protected readonly tenantBytes: Buffer
  protected readonly out: IngestBatch
  protected readonly sorter: RequestSorter

  // The element being read (ReadElement): string fields as spans of the body.
  readonly event = new Span()
  /** The bytes `event` is a span of: the body, or a fixed name. */
  eventBytes: Buffer
  readonly bodyView: DataView
  readonly userId = new Span()
  readonly anonymousId = new Span()
  readonly eventId = new Span()
  ts = 0
  /** A ts value was read for this element. */
  protected tsRead = false
  propLen = 0
  propCount = 0
  /** validate.ts's size estimate of the event so far. */
  protected budget = 0
  /** Events are written as JSON records (FastPathOptions.eventsFormat), properties as `,"key":value`. */
  readonly json: boolean

  /** `sentAt`: the request's own send time, for the elements the sorter validates. */
  constructor(
    protected readonly b: Buffer,
    protected readonly o: FastPathOptions,
    sentAt?: number,
  ) {
    this.n = b.length
    this.eventBytes = b
    this.bodyView = viewOf(b)
    this.tenantBytes = Buffer.from(o.tenant)
    this.json = (o.eventsFormat ?? DEFAULT_EVENTS_FORMAT) === 'json'
    this.out = emptyBatch(o.partitions)
    this.sorter = new RequestSorter(sentAt === undefined ? o : { ...o, sentAt }, this.out)
  }

  /** Readies the shared encoder for this request; false when its tenant is not one this path writes. */
  protected begin(): boolean {
    if (this.tenantBytes.length > 255 || this.tenantBytes.length !== this.o.tenant.length) return false
    startRequest(this.tenantBytes)
    return true
  }

  /** Clears what the last element left. */
  protected resetElement(): void {
    this.userId.start = this.anonymousId.start = this.eventId.start = -1
    this.ts = this.o.receivedAt
    this.tsRead = false
    this.propLen = 0
    this.propCount = 0
    this.budget = SIZE_ESTIMATE.base
    keys.clear()
  }

  /**
   * Reads the array of events at b[open] ('['): each element read by `element`, or when it declines
   * by `slowElement`, in request order. The offset after the ']', or −1: the body is declined (an
   * empty array, too many elements, not JSON, or an element the slow path cannot take), its claims
   * released.
   */
  protected elements(open: number): number {
    const { b, n } = this
    let i = skipWs(b, open + 1, n)
    if (b[i] === 0x5d) return -1
    for (let k = 0; ; k++) {
      if (k >= this.o.maxEvents) break
      const start = i
      let end = b[i] === 0x7b ? this.element(i) : FALLBACK
      if (end === SYNTAX) break
      if (end < 0) {
        end = skipValue(b, start, n)
        if (end === SYNTAX || !this.slowElement(start, end, k)) break
      } else this.commit()
      i = skipWs(b, end, n)
      if (b[i] === 0x2c) {
        i = skipWs(b, i + 1, n)
        continue
      }
      if (b[i] !== 0x5d) break
      return i + 1
    }
    this.decline()
    return -1
  }

  /** Reads the element at b[i] ('{'): the offset after it, FALLBACK (or another negative: the slow path), or SYNTAX. */
  protected abstract element(i: number): number

  /** An element this path does not read, taken exactly as the general path takes it (at request position `index`). false: decline the body. */
  protected abstract slowElement(start: number, end: number, index: number): boolean

  /** Reads the object at b[i] ('{') member by member into `member` (readObject). */
  protected object(i: number, kind: number, emptyOk: boolean): number {
    return readObject(this.b, i, this.n, kind, emptyOk, this)
  }

  /** One member of an object read by `object`: key b[ks, ke), value at b[i]; the offset after the value, FALLBACK or SYNTAX. */
  abstract member(kind: number, ks: number, ke: number, keyUnits: number, i: number): number

  protected decline(): null {
    this.o.deduper?.release(this.out.claimed)
    return null
  }

  /** A property: key b[ks, ke), value at b[i]. Writes `u8 len, key | u8 type | value` to the scratch. */
  protected property(ks: number, ke: number, keyUnits: number, i: number): number {
    const { b, n } = this
    const klen = ke - ks
    if (klen === 0 || klen > 255 || keyUnits > LIMITS.maxKeyLength) return FALLBACK
    const c0 = b[ks]!
    // Integer-like keys are enumerated first by JS objects, out of request order.
    if (c0 >= 0x30 && c0 <= 0x39) return FALLBACK
    if (isProtoKey(b, ks, klen)) return FALLBACK
    const count = this.propCount
    if (count >= LIMITS.maxProperties) return FALLBACK
    if (!keys.add(b, ks, klen)) return FALLBACK
    this.propCount = count + 1

    const c = b[i]
    let end: number
    let p = this.propLen
    if (c === 0x22) {
      end = scanString(b, i, n)
      if (end === SYNTAX) return SYNTAX
      const units = str.units
      if (units > LIMITS.maxStringLength) return FALLBACK
      this.budget += units + keyUnits + SIZE_ESTIMATE.string
      // Checked here too (the budget only grows), so the scratch never holds much more than one event's worth.
      if (this.budget > LIMITS.maxEventBytes) return FALLBACK
      if (this.json) {
        // Copied as sent when that is JSON.stringify's text too: an escape may spell a character
        // another way (`\/`, `\u00e9`), so an escaped string takes the slow path.
        if (str.escaped) return FALLBACK
        p = props.jsonKey(b, this.bodyView, ks, klen, props.ensure(p, klen + 4 + end - i))
        this.propLen = p + copyWords(b, this.bodyView, i, end, props.bytes, props.view, p)
        return end
      }
      if (str.escaped && this.o.surrogatesSlow === true && escapesSurrogate(b, i + 1, end - 1)) return FALLBACK
      p = props.key(b, this.bodyView, ks, klen, props.ensure(p, klen + 6 + end - i))
      const out = props.bytes
      out[p] = T_STRING
      const s = i + 1
      const e = end - 1
      const len = str.escaped ? unescapeInto(b, s, e, out, p + 5) : copyWords(b, this.bodyView, s, e, out, props.view, p + 5)
      props.view.setUint32(p + 1, len, true)
      this.propLen = p + 5 + len
      return end
    }
    if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) {
      end = scanNumber(b, i)
      if (end === SYNTAX) return SYNTAX
      const v = num.value
      if (!Number.isFinite(v) || (Number.isInteger(v) && !Number.isSafeInteger(v))) return FALLBACK
      this.budget += keyUnits + SIZE_ESTIMATE.number
      if (this.json) {
        // As JSON.stringify spells the value, whatever the client's spelling (`1.50`, `1E2`).
        p = props.jsonKey(b, this.bodyView, ks, klen, props.ensure(p, klen + 4 + NUMBER_ROOM))
        this.propLen = numberText(props.bytes, p, v)
        return end
      }
      p = props.key(b, this.bodyView, ks, klen, props.ensure(p, klen + 10))
      props.bytes[p] = T_NUMBER
      props.view.setFloat64(p + 1, v, true)
      this.propLen = p + 9
      return end
    }
    if (c === 0x74 || c === 0x66 || c === 0x6e) {
      end = scanLiteral(b, i)
      if (end === SYNTAX) return SYNTAX
      this.budget += keyUnits + SIZE_ESTIMATE.literal
      if (this.json) {
        p = props.jsonKey(b, this.bodyView, ks, klen, props.ensure(p, klen + 9))
        this.propLen = p + copy(b, i, end, props.bytes, p)
        return end
      }
      p = props.key(b, this.bodyView, ks, klen, props.ensure(p, klen + 2))
      props.bytes[p] = c === 0x74 ? T_TRUE : c === 0x66 ? T_FALSE : T_NULL
      this.propLen = p + 1
      return end
    }
    return c === 0x7b || c === 0x5b ? FALLBACK : SYNTAX
  }

  /**
   * A property the reader made rather than read (a Segment message's context, a corrected time's
   * original_ts): key (ASCII, never a duplicate of a read one), type byte and encoded value. Counted
   * as a property, outside the size budget (the caller adds what validate.ts would).
   */
  protected madeProperty(key: Buffer, type: number, value: Buffer | number): void {
    if (this.json) return this.madeJsonProperty(key, type, value)
    const klen = key.length
    const size = typeof value === 'number' ? 8 : 4 + value.length
    let p = props.key(key, null, 0, klen, props.ensure(this.propLen, klen + 2 + size))
    props.bytes[p++] = type
    if (typeof value === 'number') props.view.setFloat64(p, value, true)
    else {
      props.bytes.writeUInt32LE(value.length, p)
      copy(value, 0, value.length, props.bytes, p + 4)
    }
    this.propLen = p + size
    // Its key is not in the body, and no key read after it repeats it (the caller sees to that).
    this.propCount++
  }

  /** madeProperty in the JSON format: `,"key":` and the value as JSON.stringify writes it. */
  private madeJsonProperty(key: Buffer, type: number, value: Buffer | number): void {
    const text = typeof value === 'number' ? null : type === T_STRING ? Buffer.from(JSON.stringify(value.toString('utf8'))) : value
    let p = props.jsonKey(key, null, 0, key.length, props.ensure(this.propLen, key.length + 4 + (text === null ? NUMBER_ROOM : text.length)))
    if (typeof value === 'number') p = numberText(props.bytes, p, value)
    else p += copy(text!, 0, text!.length, props.bytes, p)
    this.propLen = p
    this.propCount++
  }

  /** Adds the element just read, unless its client event id is a duplicate. */
  protected commit(): void {
    const { b, eventId } = this
    if (eventId.present) {
      const id = eventId.ascii ? (b as Latin1).latin1Slice(eventId.start, eventId.end) : b.toString('utf8', eventId.start, eventId.end)
      if (!this.sorter.claim(id)) return
    }
    groupElement(this.out.groups, b, this, this.o.receivedAt, this.o.ids)
    this.out.accepted++
  }
}

/** b[s, e), a JSON string's escaped text, has a `\\u` escape of a UTF-16 surrogate (D800–DFFF). */
function escapesSurrogate(b: Buffer, s: number, e: number): boolean {
  for (let i = s; i + 5 < e; i++) {
    if (b[i] !== 0x5c) continue
    if (b[i + 1] === 0x75 && (b[i + 2]! | 0x20) === 0x64) {
      const c = b[i + 3]! | 0x20
      if (c === 0x38 || c === 0x39 || (c >= 0x61 && c <= 0x66)) return true
    }
    // Past the escaped character: "\\\\ud800" is a backslash and text.
    i++
  }
  return false
}
