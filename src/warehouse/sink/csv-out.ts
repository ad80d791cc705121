/**
 * A growable byte buffer that writes CSV fields (RFC 4180 quoting: a field in double quotes, inner
 * quotes doubled) straight from the bytes of encoded events. DuckDB's CSV reader parses the result
 * on all cores, so the sink's JavaScript only copies bytes and never builds a string per value.
 */
export class CsvOut {
  buf: Buffer
  pos = 0

  constructor(initial = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initial)
  }

  reset(): void {
    this.pos = 0
  }

  /** The bytes written so far (a view: valid until the next write or reset). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos)
  }

  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n))
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  byte(c: number): void {
    this.reserve(1)
    this.buf[this.pos++] = c
  }

  /** An ASCII string (numbers' text, literals), unquoted. */
  ascii(s: string): void {
    const n = s.length
    this.reserve(n)
    const b = this.buf
    let p = this.pos
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i)
    this.pos = p
  }

  /** A number as JSON.stringify writes it (integers without a detour through a string). */
  number(v: number): void {
    if (Number.isSafeInteger(v)) this.integer(v)
    else this.ascii(String(v))
  }

  integer(v: number): void {
    this.reserve(17)
    const b = this.buf
    if (v < 0) {
      b[this.pos++] = MINUS
      v = -v
    }
    if (v < 1e9) {
      this.small(v)
      return
    }
    // Epoch milliseconds and large offsets: two halves that each fit small-integer arithmetic.
    const hi = Math.floor(v / 1e9)
    this.small(hi)
    let lo = v - hi * 1e9
    let p = this.pos + 9
    this.pos = p
    for (let i = 0; i < 9; i++) {
      const q = (lo / 10) | 0
      b[--p] = ZERO + lo - q * 10
      lo = q
    }
  }

  /** 0 ≤ v < 1e9. */
  private small(v: number): void {
    const b = this.buf
    const digits = v < 10 ? 1 : v < 100 ? 2 : v < 1e3 ? 3 : v < 1e4 ? 4 : v < 1e5 ? 5 : v < 1e6 ? 6 : v < 1e7 ? 7 : v < 1e8 ? 8 : 9
    let p = this.pos + digits
    this.pos = p
    do {
      const q = (v / 10) | 0
      b[--p] = ZERO + v - q * 10
      v = q
    } while (v > 0)
  }

  /** Bytes as one quoted CSV field. */
  quotedBytes(src: Uint8Array, start: number, end: number): void {
    this.reserve(2 * (end - start) + 2)
    const b = this.buf
    let p = this.pos
    b[p++] = QUOTE
    for (let i = start; i < end; i++) {
      const c = src[i]!
      b[p++] = c
      if (c === QUOTE) b[p++] = QUOTE
    }
    b[p++] = QUOTE
    this.pos = p
  }

  /** Bytes inside an open quoted field: quotes doubled. */
  rawInQuotes(src: Uint8Array, start: number, end: number): void {
    this.reserve(2 * (end - start))
    const b = this.buf
    let p = this.pos
    for (let i = start; i < end; i++) {
      const c = src[i]!
      b[p++] = c
      if (c === QUOTE) b[p++] = QUOTE
    }
    this.pos = p
  }

  /** UTF-8 bytes as a JSON string literal, inside an open quoted field (so its quotes are doubled). */
  jsonStringInQuotes(src: Uint8Array, start: number, end: number): void {
    this.reserve(6 * (end - start) + 4)
    const b = this.buf
    let p = this.pos
    b[p++] = QUOTE
    b[p++] = QUOTE
    for (let i = start; i < end; i++) {
      const c = src[i]!
      if (c >= 0x20 && c !== QUOTE && c !== BACKSLASH) {
        b[p++] = c
        continue
      }
      b[p++] = BACKSLASH
      if (c === QUOTE) {
        b[p++] = QUOTE
        b[p++] = QUOTE
      } else if (c === BACKSLASH) b[p++] = BACKSLASH
      else {
        const short = SHORT_ESCAPES[c]
        if (short !== undefined) b[p++] = short
        else {
          // \u00XX in lower-case hex, as JSON.stringify writes control characters.
          b[p++] = 0x75
          b[p++] = ZERO
          b[p++] = ZERO
          b[p++] = HEX[c >> 4]!
          b[p++] = HEX[c & 15]!
        }
      }
    }
    b[p++] = QUOTE
    b[p++] = QUOTE
    this.pos = p
  }

  /** A JavaScript string as one quoted CSV field. */
  quotedString(s: string): void {
    const bytes = Buffer.from(s, 'utf8')
    this.quotedBytes(bytes, 0, bytes.length)
  }
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const MINUS = 0x2d
const ZERO = 0x30
const HEX = Buffer.from('0123456789abcdef', 'latin1')
const SHORT_ESCAPES: Record<number, number> = { 8: 0x62, 9: 0x74, 10: 0x6e, 12: 0x66, 13: 0x72 }
