import { SYNTAX, skipValue, skipWs } from './json-bytes.ts'

/*
 * The exact bytes of each element of a JSON array body, for the dead-letter log. JSON.parse gives
 * values, not positions, and JSON.stringify of a bad element is neither the bytes that were sent nor
 * safe (it recurses, and a deeply nested element overflows the stack). So, only when a batch has bad
 * events, this walks the already-parsed body once, without recursion, and returns [start, end) of
 * every element. The body is known to be valid JSON, so the walk only tracks strings and depth (the
 * fast path's skipValue, ./json-bytes.ts).
 */

/**
 * Byte offsets [start0, end0, start1, end1, …] of the elements of the top-level array, or with
 * `batch` of the array under the top-level "batch" key (the last one, as JSON.parse keeps the last
 * duplicate). null when the body does not have that shape.
 */
export function elementSpans(b: Buffer, batch: boolean): number[] | null {
  const n = b.length
  // A leading byte-order mark is not part of the JSON text (bodyText drops it too).
  let i = skipWs(b, n >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0, n)
  const c = b[i]
  if (!batch) return c === 0x5b ? arraySpans(b, i) : null
  if (c !== 0x7b) return null
  let found: number[] | null = null
  i = skipWs(b, i + 1, n)
  while (i < n && b[i] !== 0x7d) {
    if (b[i] !== 0x22) return null
    const keyEnd = skipValue(b, i, n)
    if (keyEnd === SYNTAX) return null
    const rawKey = b.toString('utf8', i, keyEnd)
    const key = rawKey.includes('\\') ? (JSON.parse(rawKey) as string) : rawKey.slice(1, -1)
    i = skipWs(b, keyEnd, n)
    if (b[i] !== 0x3a) return null
    i = skipWs(b, i + 1, n)
    if (key === 'batch' && b[i] === 0x5b) {
      found = arraySpans(b, i)
      if (found === null) return null
      i = skipValue(b, i, n)
    } else {
      if (key === 'batch') found = null
      i = skipValue(b, i, n)
    }
    if (i === SYNTAX) return null
    i = skipWs(b, i, n)
    if (b[i] === 0x2c) i = skipWs(b, i + 1, n)
  }
  return found
}

/** The element spans of the array opening at `open`. */
function arraySpans(b: Buffer, open: number): number[] | null {
  const n = b.length
  const out: number[] = []
  let i = skipWs(b, open + 1, n)
  while (i < n && b[i] !== 0x5d) {
    const start = i
    i = skipValue(b, i, n)
    if (i === SYNTAX) return null
    out.push(start, i)
    i = skipWs(b, i, n)
    if (b[i] === 0x2c) i = skipWs(b, i + 1, n)
  }
  return out
}
