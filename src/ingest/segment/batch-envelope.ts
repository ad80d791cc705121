import { FALLBACK } from '../fast-path-encoder.ts'
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
  let i = skipWs(b, n >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0, n)
  if (b[i] !== 0x7b) return null
  let batch = -1
  let sentAt: number | undefined
  let sawSentAt = false
  i = skipWs(b, i + 1, n)
  for (;;) {
    if (b[i] !== 0x22) return null
    const ks = i + 1
    i = scanString(b, i, n)
    if (i === SYNTAX || str.escaped) return null
    const key = batchKey(b, ks, i - 1)
    i = skipWs(b, i, n)
    if (b[i] !== 0x3a) return null
    i = skipWs(b, i + 1, n)
    if (key === 1) {
      // JSON.parse keeps the last of repeated keys: the general path has that rule.
      if (batch >= 0 || b[i] !== 0x5b) return null
      batch = i
      i = skipValue(b, i, n)
    } else if (key === 2) {
      if (sawSentAt) return null
      sawSentAt = true
      i = readTime(b, i, n)
      if (i < 0) return null
      // requestSentAt's rule; a value it refuses is refused by the general path, in its words.
      const t = requestSentAt(time.value, 'sentAt')
      if (typeof t === 'object') return null
      sentAt = t
    } else i = skipJson(b, i, n)
    if (i < 0) return null
    i = skipWs(b, i, n)
    if (b[i] === 0x2c) {
      i = skipWs(b, i + 1, n)
      continue
    }
    if (b[i] !== 0x7d) return null
    break
  }
  return batch >= 0 && skipWs(b, i + 1, n) === n ? { batch, sentAt } : null
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
