/*
 * JSON read straight from UTF-8 bytes, for the collector's fast path. Strict where it accepts (a
 * body it passes is one JSON.parse would pass), and each reader answers SYNTAX only for text that is
 * certainly not JSON: the caller then hands the whole request to JSON.parse for its exact error.
 * The body is known to be valid UTF-8 before any of this runs.
 */

/** The text is not JSON. */
export const SYNTAX = -1

/** What the last scanString saw; module state, so a scan allocates nothing. */
export const str = {
  /** Length of the decoded string in UTF-16 code units (what JS's `.length` counts). */
  units: 0,
  /** It holds at least one backslash escape. */
  escaped: false,
  /** Every byte is ASCII (escapes aside). */
  ascii: true,
}

/** What the last scanNumber read. */
export const num = {
  value: 0,
  /** The literal is -?[1-9][0-9]* or 0 (no fraction, exponent or "-0"): String(value) is the literal itself. */
  plainInt: false,
}

// Exact powers of ten: m × 10^k with m < 2^53 and k ≤ 22 is then one correctly rounded operation.
const POW10: number[] = []
for (let k = 0, p = 1; k <= 22; k++, p *= 10) POW10.push(p)
const EXACT = 2 ** 53

export function skipWs(b: Uint8Array, i: number, n: number): number {
  while (i < n) {
    const c = b[i]!
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++
    else break
  }
  return i
}

/** b[i] is '"': the offset after the closing quote, or SYNTAX. Fills `str`. */
export function scanString(b: Uint8Array, i: number, n: number): number {
  let units = 0
  let escaped = false
  let ascii = true
  let j = i + 1
  while (j < n) {
    const c = b[j]!
    if (c === 0x22) {
      str.units = units
      str.escaped = escaped
      str.ascii = ascii
      return j + 1
    }
    if (c < 0x20) return SYNTAX
    if (c === 0x5c) {
      escaped = true
      const e = b[j + 1]
      if (e === 0x75) {
        if (!isHex(b[j + 2]) || !isHex(b[j + 3]) || !isHex(b[j + 4]) || !isHex(b[j + 5])) return SYNTAX
        j += 6
      } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) j += 2
      else return SYNTAX
      units++
      continue
    }
    if (c >= 0x80) {
      ascii = false
      // A lead byte starts a character; a 4-byte one is a surrogate pair in UTF-16.
      if ((c & 0xc0) !== 0x80) units += c >= 0xf0 ? 2 : 1
    } else units++
    j++
  }
  return SYNTAX
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66))
}

function hex(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57
}

function codeUnit(b: Uint8Array, j: number): number {
  return (hex(b[j]!) << 12) | (hex(b[j + 1]!) << 8) | (hex(b[j + 2]!) << 4) | hex(b[j + 3]!)
}

/**
 * Writes the UTF-8 of the string whose (already scanned) contents are b[start, end) at out[pos]; returns
 * the bytes written. Escapes decode as JSON.parse does and the result encodes as Buffer#write does: a
 * surrogate pair of \u escapes becomes one 4-byte character, a lone surrogate becomes U+FFFD.
 */
export function unescapeInto(b: Uint8Array, start: number, end: number, out: Uint8Array, pos: number): number {
  const from = pos
  let j = start
  while (j < end) {
    const c = b[j]!
    if (c !== 0x5c) {
      out[pos++] = c
      j++
      continue
    }
    const e = b[j + 1]!
    if (e !== 0x75) {
      out[pos++] = e === 0x62 ? 0x08 : e === 0x66 ? 0x0c : e === 0x6e ? 0x0a : e === 0x72 ? 0x0d : e === 0x74 ? 0x09 : e
      j += 2
      continue
    }
    let cp = codeUnit(b, j + 2)
    j += 6
    if (cp >= 0xd800 && cp <= 0xdfff) {
      if (cp <= 0xdbff && j + 6 <= end && b[j] === 0x5c && b[j + 1] === 0x75) {
        const low = codeUnit(b, j + 2)
        if (low >= 0xdc00 && low <= 0xdfff) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00)
          j += 6
        } else cp = 0xfffd
      } else cp = 0xfffd
    }
    if (cp < 0x80) out[pos++] = cp
    else if (cp < 0x800) {
      out[pos++] = 0xc0 | (cp >> 6)
      out[pos++] = 0x80 | (cp & 0x3f)
    } else if (cp < 0x10000) {
      out[pos++] = 0xe0 | (cp >> 12)
      out[pos++] = 0x80 | ((cp >> 6) & 0x3f)
      out[pos++] = 0x80 | (cp & 0x3f)
    } else {
      out[pos++] = 0xf0 | (cp >> 18)
      out[pos++] = 0x80 | ((cp >> 12) & 0x3f)
      out[pos++] = 0x80 | ((cp >> 6) & 0x3f)
      out[pos++] = 0x80 | (cp & 0x3f)
    }
  }
  return pos - from
}

/**
 * b[i] is '-' or a digit: the offset after the number, or SYNTAX. Fills `num` with the value
 * JSON.parse gives: exactly when the digits fit in 2^53 and the power of ten is at most 10^22 (one
 * correctly rounded multiplication or division), otherwise through Number() of the literal.
 */
export function scanNumber(b: Buffer, i: number): number {
  const start = i
  const negative = b[i] === 0x2d
  if (negative) i++
  let m = 0
  let c = b[i]
  if (c === 0x30) i++
  else if (c !== undefined && c >= 0x31 && c <= 0x39) {
    do {
      m = m * 10 + (c - 0x30)
      c = b[++i]
    } while (c !== undefined && c >= 0x30 && c <= 0x39)
  } else return SYNTAX
  let plain = true
  let exp = 0
  if (b[i] === 0x2e) {
    plain = false
    i++
    const first = i
    c = b[i]
    while (c !== undefined && c >= 0x30 && c <= 0x39) {
      m = m * 10 + (c - 0x30)
      exp--
      c = b[++i]
    }
    if (i === first) return SYNTAX
  }
  c = b[i]
  if (c === 0x65 || c === 0x45) {
    plain = false
    i++
    let sign = 1
    if (b[i] === 0x2b) i++
    else if (b[i] === 0x2d) {
      sign = -1
      i++
    }
    const first = i
    let e = 0
    c = b[i]
    while (c !== undefined && c >= 0x30 && c <= 0x39) {
      if (e < 100_000) e = e * 10 + (c - 0x30)
      c = b[++i]
    }
    if (i === first) return SYNTAX
    exp += sign * e
  }
  let v: number
  if (m === 0) v = 0
  else if (m < EXACT && exp >= -22 && exp <= 22) v = exp >= 0 ? m * POW10[exp]! : m / POW10[-exp]!
  else v = Number(b.toString('latin1', negative ? start + 1 : start, i))
  num.value = negative ? -v : v
  num.plainInt = plain && !(negative && m === 0)
  return i
}

/** b[i] starts true, false or null: the offset after it, or SYNTAX. */
export function scanLiteral(b: Uint8Array, i: number): number {
  const c = b[i]
  if (c === 0x74) return b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65 ? i + 4 : SYNTAX
  if (c === 0x66) return b[i + 1] === 0x61 && b[i + 2] === 0x6c && b[i + 3] === 0x73 && b[i + 4] === 0x65 ? i + 5 : SYNTAX
  if (c === 0x6e) return b[i + 1] === 0x75 && b[i + 2] === 0x6c && b[i + 3] === 0x6c ? i + 4 : SYNTAX
  return SYNTAX
}

/**
 * The end of the value starting at b[i], found by brackets and strings only: for a value the fast
 * path does not read itself. The span is then checked by JSON.parse, so this need not be strict;
 * SYNTAX when no value ends before the text does.
 */
export function skipValue(b: Uint8Array, i: number, n: number): number {
  const c = b[i]
  if (c === 0x22) return skipString(b, i, n)
  if (c === 0x5b || c === 0x7b) {
    let depth = 0
    while (i < n) {
      const d = b[i]!
      if (d === 0x22) {
        i = skipString(b, i, n)
        if (i < 0) return SYNTAX
        continue
      }
      if (d === 0x5b || d === 0x7b) depth++
      else if (d === 0x5d || d === 0x7d) {
        depth--
        if (depth === 0) return i + 1
      }
      i++
    }
    return SYNTAX
  }
  // A number or literal runs to the next delimiter.
  const start = i
  while (i < n) {
    const d = b[i]!
    if (d === 0x2c || d === 0x5d || d === 0x7d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break
    i++
  }
  return i === start ? SYNTAX : i
}

function skipString(b: Uint8Array, i: number, n: number): number {
  let j = i + 1
  while (j < n) {
    const c = b[j]!
    if (c === 0x22) return j + 1
    j += c === 0x5c ? 2 : 1
  }
  return SYNTAX
}

/** skipJson's answer for a value nested deeper than it follows: it may well be JSON, JSON.parse decides. */
export const TOO_DEEP = -3
const MAX_SKIP_DEPTH = 32

/**
 * The end of the JSON value starting at b[i], checked as strictly as the scan* readers check (unlike
 * skipValue): for values a reader passes over but JSON.parse must have accepted. SYNTAX when the
 * text is not JSON, TOO_DEEP past 32 levels of nesting.
 */
export function skipJson(b: Buffer, i: number, n: number, depth = 0): number {
  const c = b[i]
  if (c === 0x22) return scanString(b, i, n)
  if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) return scanNumber(b, i)
  if (c === 0x74 || c === 0x66 || c === 0x6e) return scanLiteral(b, i)
  if (c !== 0x7b && c !== 0x5b) return SYNTAX
  if (depth >= MAX_SKIP_DEPTH) return TOO_DEEP
  const object = c === 0x7b
  const close = object ? 0x7d : 0x5d
  i = skipWs(b, i + 1, n)
  if (b[i] === close) return i + 1
  for (;;) {
    if (object) {
      if (b[i] !== 0x22) return SYNTAX
      i = scanString(b, i, n)
      if (i === SYNTAX) return SYNTAX
      i = skipWs(b, i, n)
      if (b[i] !== 0x3a) return SYNTAX
      i = skipWs(b, i + 1, n)
    }
    i = skipJson(b, i, n, depth + 1)
    if (i < 0) return i
    i = skipWs(b, i, n)
    if (b[i] === 0x2c) {
      i = skipWs(b, i + 1, n)
      continue
    }
    return b[i] === close ? i + 1 : SYNTAX
  }
}
