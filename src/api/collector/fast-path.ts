import { isUtf8 } from 'node:buffer'
import {
  CODEC,
  DEFAULT_LIMITS,
  MIN_EVENT_TIME,
  encodeEvent,
  formatEventError,
  murmur2Range,
  parseEventTime,
  partitionFor,
  partitionKey,
  toPositive,
  validateEvent,
  type ValidationContext,
} from '../../events/index.ts'
import type { DeadLetter } from '../../ingest/dead-letters.ts'
import type { AppendRecord } from '../../log/event-log.ts'
import { Deduper } from './dedupe.ts'
import { REQUEST_ID_LENGTH, type RequestIds } from './ids.ts'
import { deadLetter, type RejectedEvent } from './ingest.ts'
import { F_ANON, F_EVENT, F_EVENT_ID, F_TENANT, F_TS, F_USER, copy, isEventName, isProtoKey, reservedField, sameRange, u16, viewOf } from './fast-path-bytes.ts'
import { SYNTAX, num, scanLiteral, scanNumber, scanString, skipValue, skipWs, str, unescapeInto } from './json-bytes.ts'

/*
 * The collector's fast path (issue #4): a JSON array body (or {"batch": [...]}) read once, byte by
 * byte, each event written straight into its binary encoding — the exact bytes encodeEvent gives for
 * the event validateEvent makes — and grouped by partition, with no JSON.parse and no object per
 * event. It reads the common shape only: an object of envelope fields and flat properties. Any other
 * element (nested values, escapes in envelope fields, a digit-led key, a duplicate key, anything
 * validation would refuse) takes the slow path on its own: JSON.parse of its bytes, validateEvent,
 * encodeEvent, in its place in the request, sharing the request's id generator and dedupe claims, so
 * ids, order, rejections and dead letters are what sortBatch gives. A body that is not valid JSON or
 * UTF-8, has too many events, or has any other shape is declined whole (null) and the caller takes
 * today's path, which words the error.
 */

/** A request body sorted like SortedBatch, its good events already encoded and grouped by partition. */
export interface EncodedBody {
  /** Index = partition; the records of that partition in request order. */
  groups: AppendRecord[][]
  /** Events to append (all groups together). */
  count: number
  letters: DeadLetter[]
  rejected: RejectedEvent[]
  duplicates: number
  /** Dedupe keys claimed for the events: commit after the append, release if it fails. */
  claimed: string[]
  /** Elements that took the slow path (JSON.parse and validateEvent): how often the fast one falls short. */
  slow: number
}

export interface FastPathOptions {
  tenant: string
  receivedAt: number
  partitions: number
  maxEvents: number
  deduper: Deduper
  ids: RequestIds
}

/** This element is not read here: it takes the slow path by itself. */
const FALLBACK = -2

const { VERSION, HAS_ANONYMOUS_ID, T_NULL, T_FALSE, T_TRUE, T_NUMBER, T_STRING } = CODEC
const BATCH = Buffer.from('"batch"')
const LIMITS = DEFAULT_LIMITS
const MAX_ID_UNITS = 256

// Scratch reused by every request (the scan is synchronous): one event's properties, its partition
// key, and the positions of its property keys (for duplicate detection).
let props = Buffer.allocUnsafe(64 * 1024)
let propsView = viewOf(props)
let keyBytes = Buffer.allocUnsafe(1024)
const keyAt = new Int32Array(LIMITS.maxProperties)
const keyLen = new Int32Array(LIMITS.maxProperties)

// Encoded events are written into a shared slab and handed out as views, as encodeEvent does.
const SLAB = 256 * 1024
let slab = Buffer.allocUnsafe(SLAB)
// Doubles and ids are written through a DataView: a byte loop costs several times more.
let slabView = viewOf(slab)
let used = 0

// Partition keys repeat (one per user): a direct-mapped cache on the key's murmur2 returns the same string.
const KEY_SLOTS = 16384
const keyCache = new Array<string | undefined>(KEY_SLOTS)

type Latin1 = Buffer & { latin1Slice(start: number, end: number): string }

/**
 * Sorts and encodes a POST /v1/events JSON body in one pass, or returns null when the body is not
 * one this path reads (the caller then runs parseEventsJson and sortBatch, which give the answer).
 * Claims dedupe keys like sortBatch; a declined body has released its claims.
 */
export function encodeEventsBody(bytes: Buffer, options: FastPathOptions): EncodedBody | null {
  return new BodyEncoder(bytes, options).run()
}

class BodyEncoder {
  private readonly n: number
  private readonly tenantBytes: Buffer
  private readonly prefix: string
  private readonly out: EncodedBody
  private vctx: ValidationContext | null = null

  // The element being read: spans are of string contents (inside the quotes), -1 when absent.
  private seen = 0
  private evS = 0
  private evE = 0
  private uidS = -1
  private uidE = -1
  private uidUnits = 0
  private uidAscii = true
  private anonS = -1
  private anonE = -1
  private anonUnits = 0
  private anonAscii = true
  private eidS = -1
  private eidE = -1
  private eidUnits = 0
  private eidAscii = true
  private ts = 0
  private propLen = 0
  private propCount = 0
  private budget = 0

  constructor(
    private readonly b: Buffer,
    private readonly o: FastPathOptions,
  ) {
    this.n = b.length
    this.tenantBytes = Buffer.from(o.tenant)
    this.prefix = Deduper.prefix(o.tenant)
    this.out = { groups: Array.from({ length: o.partitions }, () => []), count: 0, letters: [], rejected: [], duplicates: 0, claimed: [], slow: 0 }
  }

  run(): EncodedBody | null {
    const { b, n } = this
    if (this.tenantBytes.length > 255 || this.tenantBytes.length !== this.o.tenant.length || !isUtf8(b)) return null
    const t = this.tenantBytes.length
    if (keyBytes.length < t + 1 + 3 * MAX_ID_UNITS) keyBytes = Buffer.allocUnsafe(2 * (t + 1 + 3 * MAX_ID_UNITS))
    this.tenantBytes.copy(keyBytes, 0)
    keyBytes[t] = 0x3a
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
    i = skipWs(b, i + 1, n)
    if (b[i] === 0x5d) return null
    for (let k = 0; ; k++) {
      if (k >= this.o.maxEvents) return this.decline()
      const start = i
      let end = b[i] === 0x7b ? this.element(i) : FALLBACK
      if (end === SYNTAX) return this.decline()
      if (end === FALLBACK) {
        end = skipValue(b, start, n)
        if (end === SYNTAX || !this.slowElement(start, end, k)) return this.decline()
      } else this.commit()
      i = skipWs(b, end, n)
      if (b[i] === 0x2c) {
        i = skipWs(b, i + 1, n)
        continue
      }
      if (b[i] !== 0x5d) return this.decline()
      i++
      break
    }
    if (batch) {
      i = skipWs(b, i, n)
      if (b[i] !== 0x7d) return this.decline()
      i++
    }
    return skipWs(b, i, n) === n ? this.out : this.decline()
  }

  private decline(): null {
    this.o.deduper.release(this.out.claimed)
    return null
  }

  /** Reads the object at b[i] ('{'): the offset after it, FALLBACK, or SYNTAX. */
  private element(i: number): number {
    const { b, n } = this
    this.seen = 0
    this.uidS = this.anonS = this.eidS = -1
    this.ts = this.o.receivedAt
    this.propLen = 0
    this.propCount = 0
    this.budget = 64
    i = skipWs(b, i + 1, n)
    if (b[i] === 0x7d) return FALLBACK
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
      i = skipWs(b, i + 1, n)
      const field = reservedField(b, ks, ke)
      i = field !== 0 ? this.reserved(field, i) : this.property(ks, ke, keyUnits, i)
      if (i < 0) return i
      i = skipWs(b, i, n)
      const c = b[i]
      if (c === 0x2c) {
        i = skipWs(b, i + 1, n)
        continue
      }
      if (c !== 0x7d) return SYNTAX
      break
    }
    // What validateEvent requires of the whole; the slow path words the error.
    if ((this.seen & F_EVENT) === 0 || (this.uidS < 0 && this.anonS < 0)) return FALLBACK
    this.budget += this.evE - this.evS + (this.eidS < 0 ? REQUEST_ID_LENGTH : this.eidUnits) + (this.uidS < 0 ? 0 : this.uidUnits) + (this.anonS < 0 ? 0 : this.anonUnits)
    if (this.budget > LIMITS.maxEventBytes) return FALLBACK
    return i + 1
  }

  /** An envelope field's value at b[i]: the offset after it, FALLBACK or SYNTAX. */
  private reserved(field: number, i: number): number {
    const { b, n } = this
    if ((this.seen & field) !== 0) return FALLBACK
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
      switch (field) {
        case F_EVENT:
          if (!isEventName(b, s, e)) return FALLBACK
          this.evS = s
          this.evE = e
          return end
        case F_USER:
          if (units === 0 || units > MAX_ID_UNITS) return FALLBACK
          this.uidS = s
          this.uidE = e
          this.uidUnits = units
          this.uidAscii = str.ascii
          return end
        case F_ANON:
          if (units === 0 || units > MAX_ID_UNITS) return FALLBACK
          this.anonS = s
          this.anonE = e
          this.anonUnits = units
          this.anonAscii = str.ascii
          return end
        case F_EVENT_ID:
          if (units === 0 || units > MAX_ID_UNITS) return FALLBACK
          this.eidS = s
          this.eidE = e
          this.eidUnits = units
          this.eidAscii = str.ascii
          return end
        case F_TENANT:
          return this.tenantBytes.equals(b.subarray(s, e)) ? end : FALLBACK
        default: {
          // ts as an ISO-8601 string: rare enough to go through parseEventTime itself.
          if (!str.ascii) return FALLBACK
          const t = parseEventTime((b as Latin1).latin1Slice(s, e))
          if (!t.ok || t.ms > this.o.receivedAt + LIMITS.maxFutureMs) return FALLBACK
          this.ts = t.ms
          return end
        }
      }
    }
    if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) {
      const end = scanNumber(b, i)
      if (end === SYNTAX) return SYNTAX
      const v = num.value
      if (field === F_TS) {
        // Infinity passes this and fails the future check below.
        if (!(v >= MIN_EVENT_TIME)) return FALLBACK
        const ms = Math.floor(v)
        if (ms > this.o.receivedAt + LIMITS.maxFutureMs) return FALLBACK
        this.ts = ms
        return end
      }
      // An integer identity is kept as String(v): the literal itself when it is plain.
      if ((field !== F_USER && field !== F_ANON) || !num.plainInt || !Number.isSafeInteger(v)) return FALLBACK
      if (field === F_USER) {
        this.uidS = i
        this.uidE = end
        this.uidUnits = end - i
        this.uidAscii = true
      } else {
        this.anonS = i
        this.anonE = end
        this.anonUnits = end - i
        this.anonAscii = true
      }
      return end
    }
    return c === 0x74 || c === 0x66 || c === 0x7b || c === 0x5b ? FALLBACK : SYNTAX
  }

  /** A property: key b[ks, ke), value at b[i]. Writes `u8 len, key | u8 type | value` to the scratch. */
  private property(ks: number, ke: number, keyUnits: number, i: number): number {
    const { b, n } = this
    const klen = ke - ks
    if (klen === 0 || klen > 255 || keyUnits > LIMITS.maxKeyLength) return FALLBACK
    const c0 = b[ks]!
    // Integer-like keys are enumerated first by JS objects, out of request order.
    if (c0 >= 0x30 && c0 <= 0x39) return FALLBACK
    if (isProtoKey(b, ks, klen)) return FALLBACK
    const count = this.propCount
    if (count >= LIMITS.maxProperties) return FALLBACK
    for (let k = 0; k < count; k++) if (keyLen[k] === klen && sameRange(b, keyAt[k]!, ks, klen)) return FALLBACK
    keyAt[count] = ks
    keyLen[count] = klen
    this.propCount = count + 1

    const c = b[i]
    let end: number
    let p = this.propLen
    if (c === 0x22) {
      end = scanString(b, i, n)
      if (end === SYNTAX) return SYNTAX
      const units = str.units
      if (units > LIMITS.maxStringLength) return FALLBACK
      this.budget += units + keyUnits + 6
      // Checked here too (the budget only grows), so the scratch never holds much more than one event's worth.
      if (this.budget > LIMITS.maxEventBytes) return FALLBACK
      p = this.ensure(p, klen + 6 + end - i)
      p = writeKey(b, ks, klen, p)
      props[p] = T_STRING
      const s = i + 1
      const e = end - 1
      const len = str.escaped ? unescapeInto(b, s, e, props, p + 5) : copy(b, s, e, props, p + 5)
      props.writeUInt32LE(len, p + 1)
      this.propLen = p + 5 + len
      return end
    }
    if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) {
      end = scanNumber(b, i)
      if (end === SYNTAX) return SYNTAX
      const v = num.value
      if (!Number.isFinite(v) || (Number.isInteger(v) && !Number.isSafeInteger(v))) return FALLBACK
      this.budget += keyUnits + 24
      p = writeKey(b, ks, klen, this.ensure(p, klen + 10))
      props[p] = T_NUMBER
      propsView.setFloat64(p + 1, v, true)
      this.propLen = p + 9
      return end
    }
    if (c === 0x74 || c === 0x66 || c === 0x6e) {
      end = scanLiteral(b, i)
      if (end === SYNTAX) return SYNTAX
      this.budget += keyUnits + 8
      p = writeKey(b, ks, klen, this.ensure(p, klen + 2))
      props[p] = c === 0x74 ? T_TRUE : c === 0x66 ? T_FALSE : T_NULL
      this.propLen = p + 1
      return end
    }
    return c === 0x7b || c === 0x5b ? FALLBACK : SYNTAX
  }

  /** Room for `more` bytes after `p` in the property scratch. */
  private ensure(p: number, more: number): number {
    if (p + more > props.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * props.length, p + more))
      props.copy(bigger, 0, 0, p)
      props = bigger
      propsView = viewOf(props)
    }
    return p
  }

  /** Appends the element just read: dedupe, then its encoding into the slab and its partition's group. */
  private commit(): void {
    const { b, o, out } = this
    const t = this.tenantBytes.length
    const hasUser = this.uidS >= 0
    const idS = hasUser ? this.uidS : this.anonS
    const idE = hasUser ? this.uidE : this.anonE
    const idLen = idE - idS
    const keyLength = t + 1 + idLen
    copy(b, idS, idE, keyBytes, t + 1)
    const hash = murmur2Range(keyBytes, 0, keyLength)
    const partition = toPositive(hash) % o.partitions

    // Only a client's own id is de-duplicated, as in sortBatch.
    if (this.eidS >= 0) {
      const id = this.eidAscii ? (b as Latin1).latin1Slice(this.eidS, this.eidE) : b.toString('utf8', this.eidS, this.eidE)
      const key = this.prefix + id
      if (!o.deduper.claim(key, o.receivedAt)) {
        out.duplicates++
        return
      }
      out.claimed.push(key)
    }

    const evLen = this.evE - this.evS
    const anonLen = this.anonE - this.anonS
    const eidLen = this.eidS >= 0 ? this.eidE - this.eidS : REQUEST_ID_LENGTH
    const size = 18 + 1 + evLen + 1 + t + 2 + idLen + (this.anonS >= 0 ? 2 + anonLen : 0) + 2 + eidLen + 2 + this.propLen
    if (used + size > slab.length) {
      slab = Buffer.allocUnsafe(Math.max(SLAB, size))
      slabView = viewOf(slab)
      used = 0
    }
    const s = slab
    const sv = slabView
    const start = used
    s[start] = VERSION
    sv.setFloat64(start + 1, this.ts, true)
    sv.setFloat64(start + 9, o.receivedAt, true)
    s[start + 17] = this.anonS >= 0 ? HAS_ANONYMOUS_ID : 0
    let pos = start + 18
    s[pos] = evLen
    pos = copy(b, this.evS, this.evE, s, pos + 1) + pos + 1
    s[pos] = t
    pos = copy(keyBytes, 0, t, s, pos + 1) + pos + 1
    pos = u16(s, pos, idLen)
    pos = copy(b, idS, idE, s, pos) + pos
    if (this.anonS >= 0) {
      // With no user_id the anonymous id is both fields: already written as user_id above.
      pos = u16(s, pos, anonLen)
      pos = copy(b, this.anonS, this.anonE, s, pos) + pos
    }
    pos = u16(s, pos, eidLen)
    if (this.eidS >= 0) pos = copy(b, this.eidS, this.eidE, s, pos) + pos
    else {
      o.ids.writeNext(sv, pos)
      pos += REQUEST_ID_LENGTH
    }
    pos = u16(s, pos, this.propCount)
    pos = copy(props, 0, this.propLen, s, pos) + pos
    used = pos
    // A plain Uint8Array view: a third of the cost of Buffer#subarray, and all AppendRecord asks for.
    const value = new Uint8Array(s.buffer, s.byteOffset + start, pos - start)
    out.groups[partition]!.push({ key: this.partitionKey(hash, keyLength, hasUser ? this.uidAscii : this.anonAscii), value, timestamp: this.ts })
    out.count++
  }

  private partitionKey(hash: number, length: number, ascii: boolean): string {
    if (!ascii || length > 64) return keyBytes.toString('utf8', 0, length)
    const slot = hash & (KEY_SLOTS - 1)
    const hit = keyCache[slot]
    if (hit !== undefined && hit.length === length) {
      let i = 0
      while (i < length && hit.charCodeAt(i) === keyBytes[i]) i++
      if (i === length) return hit
    }
    const key = (keyBytes as Latin1).latin1Slice(0, length)
    keyCache[slot] = key
    return key
  }

  /** An element this path does not read, taken exactly as sortBatch and appendEvents take it. false: decline the body. */
  private slowElement(start: number, end: number, index: number): boolean {
    const { b, o, out } = this
    out.slow++
    let item: unknown
    try {
      item = JSON.parse(b.toString('utf8', start, end))
    } catch {
      return false
    }
    this.vctx ??= { tenant: o.tenant, receivedAt: o.receivedAt, limits: DEFAULT_LIMITS, makeId: o.ids.next }
    const r = validateEvent(item, this.vctx)
    if (!r.ok) {
      out.rejected.push({ index, error: formatEventError(r.error), field: r.error.field })
      out.letters.push(deadLetter(o.tenant, o.receivedAt, index, r.error.field, r.error.reason, b.subarray(start, end)))
      return true
    }
    const id = (item as { event_id?: unknown }).event_id
    if (typeof id === 'string') {
      const key = this.prefix + id
      if (!o.deduper.claim(key, o.receivedAt)) {
        out.duplicates++
        return true
      }
      out.claimed.push(key)
    }
    let value: Buffer
    try {
      value = encodeEvent(r.event)
    } catch {
      // The slow path fails this request at append time (503); let it.
      return false
    }
    const e = r.event
    const key = partitionKey(e.tenant, e.user_id)
    out.groups[partitionFor(key, o.partitions)]!.push({ key, value, timestamp: e.ts })
    out.count++
    return true
  }
}

function writeKey(b: Buffer, ks: number, klen: number, p: number): number {
  props[p] = klen
  return p + 1 + copy(b, ks, ks + klen, props, p + 1)
}
