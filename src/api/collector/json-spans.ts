/*
 * The exact text of each element of a JSON array body, for the dead-letter log. JSON.parse gives
 * values, not positions, and JSON.stringify of a bad element is neither the bytes that were sent nor
 * safe (it recurses, and a deeply nested element overflows the stack). So, only when a batch has bad
 * events, this walks the already-parsed text once, without recursion, and returns [start, end) of
 * every element. The text is known to be valid JSON, so the walk only tracks strings and depth.
 */

/**
 * Offsets [start0, end0, start1, end1, …] of the elements of the top-level array, or with `batch` of
 * the array under the top-level "batch" key (the last one, as JSON.parse keeps the last duplicate).
 * null when the text does not have that shape.
 */
export function elementSpans(s: string, batch: boolean): number[] | null {
  let i = skipWhitespace(s, 0)
  const c = s.charCodeAt(i)
  if (!batch) return c === 0x5b ? arraySpans(s, i, []) : null
  if (c !== 0x7b) return null
  let found: number[] | null = null
  i = skipWhitespace(s, i + 1)
  while (i < s.length && s.charCodeAt(i) !== 0x7d) {
    if (s.charCodeAt(i) !== 0x22) return null
    const keyEnd = skipString(s, i)
    const rawKey = s.slice(i, keyEnd)
    const key = rawKey.includes('\\') ? (JSON.parse(rawKey) as string) : rawKey.slice(1, -1)
    i = skipWhitespace(s, keyEnd)
    if (s.charCodeAt(i) !== 0x3a) return null
    i = skipWhitespace(s, i + 1)
    if (key === 'batch' && s.charCodeAt(i) === 0x5b) {
      found = []
      i = arrayEnd(s, i, found)
    } else {
      if (key === 'batch') found = null
      i = skipValue(s, i)
    }
    i = skipWhitespace(s, i)
    if (s.charCodeAt(i) === 0x2c) i = skipWhitespace(s, i + 1)
  }
  return found
}

function arraySpans(s: string, open: number, out: number[]): number[] {
  arrayEnd(s, open, out)
  return out
}

/** Records the element spans of the array opening at `open`; returns the offset after its ']'. */
function arrayEnd(s: string, open: number, out: number[]): number {
  let i = skipWhitespace(s, open + 1)
  while (i < s.length && s.charCodeAt(i) !== 0x5d) {
    const start = i
    i = skipValue(s, i)
    out.push(start, i)
    i = skipWhitespace(s, i)
    if (s.charCodeAt(i) === 0x2c) i = skipWhitespace(s, i + 1)
  }
  return i + 1
}

function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i)
  if (c === 0x22) return skipString(s, i)
  if (c === 0x5b || c === 0x7b) {
    let depth = 0
    const n = s.length
    while (i < n) {
      const d = s.charCodeAt(i)
      if (d === 0x22) {
        i = skipString(s, i)
        continue
      }
      if (d === 0x5b || d === 0x7b) depth++
      else if (d === 0x5d || d === 0x7d) {
        depth--
        if (depth === 0) return i + 1
      }
      i++
    }
    return n
  }
  // A number or literal runs to the next delimiter.
  const n = s.length
  while (i < n) {
    const d = s.charCodeAt(i)
    if (d === 0x2c || d === 0x5d || d === 0x7d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break
    i++
  }
  return i
}

/** Offset after the closing quote of the string opening at i. */
function skipString(s: string, i: number): number {
  const n = s.length
  let j = i + 1
  while (j < n) {
    const c = s.charCodeAt(j)
    if (c === 0x22) return j + 1
    j += c === 0x5c ? 2 : 1
  }
  return n
}

function skipWhitespace(s: string, i: number): number {
  const n = s.length
  while (i < n) {
    const c = s.charCodeAt(i)
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break
    i++
  }
  return i
}
