import { CODEC, MAX_ID_LENGTH, murmur2Range, toPositive } from '../events/index.ts'
import type { AppendRecord } from '../log/event-log.ts'
import { copy, copyWords, u16, viewOf } from './fast-path-bytes.ts'
import { REQUEST_ID_LENGTH, type RequestIds } from './ids.ts'
import { jsonSize, startJsonRequest, writeJson } from './fast-path-json.ts'

/*
 * The fast path's output side: what reading one element leaves (field spans in the body, the
 * properties already encoded in a scratch buffer) and how that becomes the event's record — the
 * binary encoding (src/events/codec.ts's layout), or in the JSON format the canonical JSON record
 * (./fast-path-json.ts) — and its partition key. ./fast-path.ts does the reading.
 */

const { VERSION, AT_TS, AT_RECEIVED, AT_FLAGS, HEADER, HAS_ANONYMOUS_ID, SERVER_ID } = CODEC

/** A string field of the element being read: [start, end) of its bytes in the body, start −1 when absent. */
export class Span {
  start = -1
  end = -1
  /** Length in UTF-16 code units, as validate.ts counts. */
  units = 0
  ascii = true

  set(start: number, end: number, units: number, ascii: boolean): void {
    this.start = start
    this.end = end
    this.units = units
    this.ascii = ascii
  }

  get present(): boolean {
    return this.start >= 0
  }

  get length(): number {
    return this.end - this.start
  }
}

/** What reading one element leaves for encoding it. */
export interface ReadElement {
  readonly event: Span
  /** The bytes `event` is a span of: the body, or a name the reader chose. */
  readonly eventBytes: Buffer
  /** A DataView of the body, for copies four bytes a step (copyWords). */
  readonly bodyView: DataView
  readonly userId: Span
  readonly anonymousId: Span
  readonly eventId: Span
  readonly ts: number
  /** The record is written as JSON (src/events/events-format.ts), else in the binary envelope. */
  readonly json: boolean
  /** Properties encoded in `props.bytes[0, propLen)`: `u8 len, key | u8 type | value` each, or in JSON `,"key":value` each. */
  readonly propCount: number
  readonly propLen: number
}

/** One element's encoded properties, reused by every request (the scan is synchronous). */
export const props = {
  bytes: Buffer.allocUnsafe(64 * 1024),
  view: viewOf(Buffer.allocUnsafe(0)),
  /** Room for `more` bytes after `p`; returns p. */
  ensure(p: number, more: number): number {
    if (p + more > this.bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, p + more))
      this.bytes.copy(bigger, 0, 0, p)
      this.bytes = bigger
      this.view = viewOf(bigger)
    }
    return p
  },
  /** Writes a property's `,"key":` at p, the JSON format's (`bv`: a view of b, or null); returns the offset after it. */
  jsonKey(b: Buffer, bv: DataView | null, ks: number, klen: number, p: number): number {
    const out = this.bytes
    out[p] = 0x2c
    out[p + 1] = 0x22
    p += 2 + copyWords(b, bv, ks, ks + klen, out, this.view, p + 2)
    out[p] = 0x22
    out[p + 1] = 0x3a
    return p + 2
  },
  /** Writes a property's `u8 len, key` at p (`bv`: a view of b, or null); returns the offset after it. */
  key(b: Buffer, bv: DataView | null, ks: number, klen: number, p: number): number {
    this.bytes[p] = klen
    return p + 1 + copyWords(b, bv, ks, ks + klen, this.bytes, this.view, p + 1)
  },
}
props.view = viewOf(props.bytes)

/** Longest user_id / anonymous_id, in UTF-16 code units. */
export const MAX_ID_UNITS = MAX_ID_LENGTH

// `tenant:` + the identity: the partition key, as bytes (murmur2 input) and as a string (the record's key).
let keyBytes = Buffer.allocUnsafe(1024)
let keyView = viewOf(keyBytes)
let tenantLength = 0
// Partition keys repeat (one per user): a direct-mapped cache on the key's murmur2 returns the same string.
const KEY_SLOTS = 16384
const keyCache = new Array<string | undefined>(KEY_SLOTS)

// Encoded events are written into a shared slab and handed out as views, as encodeEvent does.
const SLAB = 256 * 1024
let slab = Buffer.allocUnsafe(SLAB)
// Doubles and ids are written through a DataView: a byte loop costs several times more.
let slabView = viewOf(slab)
let used = 0

type Latin1 = Buffer & { latin1Slice(start: number, end: number): string }

/** Sets the tenant of the request about to be read (at most 255 bytes, ASCII). */
export function startRequest(tenant: Buffer): void {
  startJsonRequest(tenant.toString('latin1'))
  const t = tenant.length
  if (keyBytes.length < t + 1 + 3 * MAX_ID_UNITS) {
    keyBytes = Buffer.allocUnsafe(2 * (t + 1 + 3 * MAX_ID_UNITS))
    keyView = viewOf(keyBytes)
  }
  tenant.copy(keyBytes, 0)
  keyBytes[t] = 0x3a
  tenantLength = t
}

/**
 * Encodes the element just read from body `b` (exactly the bytes encodeEvent, or in JSON
 * encodeEventJson, gives for the event validateEvent makes) and adds it to its partition's group.
 */
export function groupElement(groups: AppendRecord[][], b: Buffer, e: ReadElement, receivedAt: number, ids: RequestIds): void {
  const hash = keyHash(b, e)
  const size = encodedSize(e, REQUEST_ID_LENGTH)
  if (used + size > slab.length) {
    slab = Buffer.allocUnsafe(Math.max(SLAB, size))
    slabView = viewOf(slab)
    used = 0
  }
  const start = used
  used = writeEncoded(slab, slabView, start, b, e, receivedAt, ids, null, 0)
  // A plain Uint8Array view: a third of the cost of Buffer#subarray, and all AppendRecord asks for.
  const value = new Uint8Array(slab.buffer, slab.byteOffset + start, used - start)
  const id = e.userId.present ? e.userId : e.anonymousId
  groups[toPositive(hash) % groups.length]!.push({ key: partitionKey(hash, keyLength, id.ascii), value, timestamp: e.ts })
}

/** Length of the partition key keyHash last made (`tenant:` + the identity), in bytes. */
let keyLength = 0

/**
 * The murmur2 of the element's partition key, `tenant:` + its identity (user_id, else anonymous_id):
 * toPositive(hash) % partitions is its partition, as partitionFor gives for the same key.
 */
export function keyHash(b: Buffer, e: ReadElement): number {
  const id = e.userId.present ? e.userId : e.anonymousId
  const t = tenantLength
  keyLength = t + 1 + id.length
  copy(b, id.start, id.end, keyBytes, t + 1)
  return murmur2Range(keyBytes, 0, keyLength)
}

/** Length of the key keyHash last made: what writeKey writes. */
export function keyBytesLength(): number {
  return keyLength
}

/** Writes the partition key keyHash last made (`tenant:` + the identity, UTF-8) at out[pos]; returns its length. */
export function writeKey(out: Buffer, pos: number): number {
  return copy(keyBytes, 0, keyLength, out, pos)
}

/** Bytes writeEncoded writes for the element (at most, in JSON); `madeIdLength`: the id's length when the client sent none. */
export function encodedSize(e: ReadElement, madeIdLength: number): number {
  if (e.json) return jsonSize(e, madeIdLength)
  const id = e.userId.present ? e.userId : e.anonymousId
  const anon = e.anonymousId
  const eidLen = e.eventId.present ? e.eventId.length : madeIdLength
  return HEADER + 1 + e.event.length + 1 + tenantLength + 2 + id.length + (anon.present ? 2 + anon.length : 0) + 2 + eidLen + 2 + e.propLen
}

/**
 * Writes the element's encoding at s[start] (the caller made room: encodedSize) and returns its end.
 * An event without a client id gets `ids`' next id, or with `ids` null madeId[0, madeLength).
 */
export function writeEncoded(s: Buffer, sv: DataView, start: number, b: Buffer, e: ReadElement, receivedAt: number, ids: RequestIds | null, madeId: Buffer | null, madeLength: number): number {
  if (e.json) return writeJson(s, sv, start, b, e, receivedAt, ids, madeId, madeLength, props.bytes, props.view)
  const t = tenantLength
  // With no user_id the anonymous id is both fields.
  const id = e.userId.present ? e.userId : e.anonymousId
  const anon = e.anonymousId
  s[start] = VERSION
  sv.setFloat64(start + AT_TS, e.ts, true)
  sv.setFloat64(start + AT_RECEIVED, receivedAt, true)
  s[start + AT_FLAGS] = (anon.present ? HAS_ANONYMOUS_ID : 0) | (e.eventId.present ? 0 : SERVER_ID)
  let pos = start + HEADER
  const bv = e.bodyView
  s[pos] = e.event.length
  pos = copyWords(e.eventBytes, e.eventBytes === b ? bv : null, e.event.start, e.event.end, s, sv, pos + 1) + pos + 1
  s[pos] = t
  pos = copyWords(keyBytes, keyView, 0, t, s, sv, pos + 1) + pos + 1
  pos = u16(s, pos, id.length)
  pos = copyWords(b, bv, id.start, id.end, s, sv, pos) + pos
  if (anon.present) {
    pos = u16(s, pos, anon.length)
    pos = copyWords(b, bv, anon.start, anon.end, s, sv, pos) + pos
  }
  if (e.eventId.present) {
    pos = u16(s, pos, e.eventId.length)
    pos = copyWords(b, bv, e.eventId.start, e.eventId.end, s, sv, pos) + pos
  } else if (ids !== null) {
    pos = u16(s, pos, REQUEST_ID_LENGTH)
    ids.writeNext(sv, pos)
    pos += REQUEST_ID_LENGTH
  } else {
    pos = u16(s, pos, madeLength)
    pos = copy(madeId!, 0, madeLength, s, pos) + pos
  }
  pos = u16(s, pos, e.propCount)
  return copyWords(props.bytes, props.view, 0, e.propLen, s, sv, pos) + pos
}

function partitionKey(hash: number, length: number, ascii: boolean): string {
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
