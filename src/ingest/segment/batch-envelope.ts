import { parseEventTime } from '../../events/index.ts'
import { keyMatcher } from '../fast-path-bytes.ts'
import { SYNTAX, num, scanLiteral, scanNumber, scanString, skipJson, skipValue, skipWs, str } from '../json-bytes.ts'

/*
 * The envelope of a POST /v1/batch body, read from its bytes for the batch reader (./fast-path.ts):
 * where the messages start and when the client says it sent them. Every other shape is left to the
 * general path (./parse.ts), which words the answer.
 */

const batchKey = keyMatcher(['batch', 'sentAt'])

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
      const t = timeAt(b, i, n)
      if (t === null) return null
      sentAt = t.ms
      i = t.end
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

/** A send time at b[i] as requestSentAt reads it (null: none); null when it is not one (the general path words why). */
function timeAt(b: Buffer, i: number, n: number): { ms: number | undefined; end: number } | null {
  const c = b[i]
  if (c === 0x6e) {
    const end = scanLiteral(b, i)
    return end === SYNTAX ? null : { ms: undefined, end }
  }
  let end: number
  let t
  if (c === 0x22) {
    end = scanString(b, i, n)
    if (end === SYNTAX || str.escaped || !str.ascii) return null
    t = parseEventTime((b as Latin1).latin1Slice(i + 1, end - 1))
  } else {
    end = scanNumber(b, i)
    if (end === SYNTAX) return null
    t = parseEventTime(num.value)
  }
  return t.ok ? { ms: t.ms, end } : null
}
