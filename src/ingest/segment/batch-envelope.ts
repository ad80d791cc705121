import { FALLBACK, readObject, type MemberReader } from '../fast-path-encoder.ts'
import { keyMatcher } from '../fast-path-bytes.ts'
import { requestSentAt } from '../parse.ts'
import { SYNTAX, num, scanLiteral, scanNumber, scanString, skipJson, skipValue, skipWs, str } from '../json-bytes.ts'

/*
 * The envelope of a POST /v1/batch body, read from its bytes for the batch reader (./fast-path.ts):
 * where the messages start and when the client says it sent them. Every other shape is left to the
 * general path (./parse.ts), which words the answer.
 */

const batchKey = keyMatcher(['batch', 'sentAt'])
/** readTime's answer for a value it does not read (the fast path's FALLBACK). */
const UNREAD = FALLBACK

type Latin1 = Buffer & { latin1Slice(start: number, end: number): string }

export interface TopLevel {
  /** Offset of the batch array's '['. */
  batch: number
  sentAt: number | undefined
}

/** The body's {"batch": [...], "sentAt": …}: where the array starts and the send time; null for every other shape. */
export function topLevel(b: Buffer): TopLevel | null {
  const n = b.length
  const i = skipWs(b, n >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0, n)
  if (b[i] !== 0x7b) return null
  const top = new TopReader(b)
  const end = readObject(b, i, n, 0, false, top)
  return end >= 0 && top.batch >= 0 && skipWs(b, end, n) === n ? { batch: top.batch, sentAt: top.sentAt } : null
}

/** The top level's members: `batch` and `sentAt` read, the others checked to be JSON; a repeated one is not read. */
class TopReader implements MemberReader {
  batch = -1
  sentAt: number | undefined
  private sawSentAt = false

  constructor(private readonly b: Buffer) {}

  member(_kind: number, ks: number, ke: number, _keyUnits: number, i: number): number {
    const { b } = this
    const n = b.length
    const key = batchKey(b, ks, ke)
    if (key === 1) {
      // JSON.parse keeps the last of repeated keys: the general path has that rule.
      if (this.batch >= 0 || b[i] !== 0x5b) return FALLBACK
      this.batch = i
      return skipValue(b, i, n)
    }
    if (key === 2) {
      if (this.sawSentAt) return FALLBACK
      this.sawSentAt = true
      const end = readTime(b, i, n)
      if (end < 0) return end
      // requestSentAt's rule; a value it refuses is refused by the general path, in its words.
      const t = requestSentAt(time.value, 'sentAt')
      if (typeof t === 'object') return FALLBACK
      this.sentAt = t
      return end
    }
    return skipJson(b, i, n)
  }
}

/** What the last readTime read: the value as JSON.parse gives it (null read as undefined: no value). */
export const time: { value: string | number | undefined } = { value: undefined }

/**
 * A time field's value at b[i] (a string of ASCII without escapes, a number, or null) into `time`:
 * the offset after it, SYNTAX when it is not JSON, or UNREAD for another value (an escaped or
 * non-ASCII string, true, an object …), which the general path words.
 */
export function readTime(b: Buffer, i: number, n: number): number {
  const c = b[i]
  if (c === 0x6e) {
    time.value = undefined
    return scanLiteral(b, i)
  }
  if (c === 0x22) {
    const end = scanString(b, i, n)
    if (end === SYNTAX) return SYNTAX
    if (str.escaped || !str.ascii) return UNREAD
    time.value = (b as Latin1).latin1Slice(i + 1, end - 1)
    return end
  }
  if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) {
    const end = scanNumber(b, i)
    if (end !== SYNTAX) time.value = num.value
    return end
  }
  return c === 0x74 || c === 0x66 || c === 0x7b || c === 0x5b ? UNREAD : SYNTAX
}
