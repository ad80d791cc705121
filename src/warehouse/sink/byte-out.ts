import { endianness } from 'node:os'

// Column values are laid into typed arrays and handed to the file as their bytes: Parquet's PLAIN
// encoding is little-endian, and so must the machine be.
if (endianness() !== 'LE') throw new Error('the warehouse sink writes Parquet from typed arrays and needs a little-endian machine')

/**
 * A growable byte buffer for Parquet values and metadata, written straight from the bytes of
 * encoded events: strings are copied, never decoded, and JSON text is written byte by byte.
 */
export class ByteOut {
  buf: Buffer
  private view: DataView
  pos = 0

  constructor(initial = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initial)
    this.view = viewOf(this.buf)
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
    this.view = viewOf(next)
  }

  byte(c: number): void {
    this.reserve(1)
    this.buf[this.pos++] = c
  }

  /** An ASCII string (numbers' text, literals). */
  ascii(s: string): void {
    const n = s.length
    this.reserve(n)
    const b = this.buf
    let p = this.pos
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i)
    this.pos = p
  }

  /** Bytes copied as they are; `from` is a DataView of src, when the caller has one (faster). */
  raw(src: Uint8Array, start: number, end: number, from?: DataView): void {
    const n = end - start
    this.reserve(n)
    this.pos = from ? copyWords(from, start, end, this.view, this.pos) : copy(src, start, end, this.buf, this.pos)
  }

  u32(v: number): void {
    this.reserve(4)
    const b = this.buf
    const p = this.pos
    b[p] = v & 0xff
    b[p + 1] = (v >>> 8) & 0xff
    b[p + 2] = (v >>> 16) & 0xff
    b[p + 3] = v >>> 24
    this.pos = p + 4
  }

  /** Overwrites four bytes at `at` (a length prefix written before its value was known). */
  u32At(at: number, v: number): void {
    const b = this.buf
    b[at] = v & 0xff
    b[at + 1] = (v >>> 8) & 0xff
    b[at + 2] = (v >>> 16) & 0xff
    b[at + 3] = v >>> 24
  }

  /** A Parquet BYTE_ARRAY in PLAIN encoding: length, then the bytes (`from`: as in raw()). */
  byteArray(src: Uint8Array, start: number, end: number, from?: DataView): void {
    const n = end - start
    if (this.pos + 4 + n > this.buf.length) this.reserve(4 + n)
    const p = this.pos
    this.view.setUint32(p, n, true)
    this.pos = from ? copyWords(from, start, end, this.view, p + 4) : copy(src, start, end, this.buf, p + 4)
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

  /** UTF-8 bytes as a JSON string literal, escaped as JSON.stringify escapes them. */
  jsonString(src: Uint8Array, start: number, end: number): void {
    this.reserve(6 * (end - start) + 2)
    const b = this.buf
    let p = this.pos
    b[p++] = QUOTE
    for (let i = start; i < end; i++) {
      const c = src[i]!
      if (c >= 0x20 && c !== QUOTE && c !== BACKSLASH) {
        b[p++] = c
        continue
      }
      b[p++] = BACKSLASH
      if (c === QUOTE || c === BACKSLASH) b[p++] = c
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
    this.pos = p
  }
}

/**
 * Copies src[start, end) to dst at `at` and returns the end. Short runs (ids, names: nearly all
 * strings of an event) go by hand: the native copy needs a view object per call, and allocating one
 * per string costs more than the copy.
 */
function copy(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): number {
  if (end - start > 96) {
    dst.set(src.subarray(start, end), at)
    return at + end - start
  }
  for (let i = start; i < end; i++) dst[at++] = src[i]!
  return at
}

/** The same, four bytes at a time through DataViews (unaligned access is allowed): ids go 2–3× faster. */
function copyWords(src: DataView, start: number, end: number, dst: DataView, at: number): number {
  if (end - start > 96) {
    new Uint8Array(dst.buffer, dst.byteOffset + at, end - start).set(new Uint8Array(src.buffer, src.byteOffset + start, end - start))
    return at + end - start
  }
  let i = start
  for (; i + 4 <= end; i += 4) {
    dst.setUint32(at, src.getUint32(i, true), true)
    at += 4
  }
  for (; i < end; i++) dst.setUint8(at++, src.getUint8(i))
  return at
}

export function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength)
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const MINUS = 0x2d
const ZERO = 0x30
const HEX = Buffer.from('0123456789abcdef', 'latin1')
const SHORT_ESCAPES: Record<number, number> = { 8: 0x62, 9: 0x74, 10: 0x6e, 12: 0x66, 13: 0x72 }
