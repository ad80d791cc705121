/*
 * Snappy compression, the raw block format that Parquet's SNAPPY codec means (no framing), write
 * side only: https://github.com/google/snappy/blob/main/format_description.txt. The algorithm is
 * the reference compressor's (snappy.cc, CompressFragment): the input in blocks of 64 KiB, each with
 * a hash table of 4-byte sequences, greedy matches, and lookups that step further apart the longer
 * nothing matches. Written here rather than taken from npm: it is small, pure JavaScript (the sink
 * keeps no native or wasm dependency), reads through DataViews, which makes it 2–6× faster than the
 * pure-JS package on npm, and knows what a Parquet page holds (ValuesHint), which cuts its time on
 * the sink's pages by almost two thirds for 1% more bytes. docs/warehouse-sink.md, "How rows become
 * Parquet", has the measurements.
 *
 * Byte arrays: in a page of PLAIN strings (a 4-byte length, then the bytes) the matches worth having
 * mostly start where a value does: a repeated value, or the shared beginning of ids, URLs and JSON
 * objects. Where a block's values match only there (random ids: the first 512 lookups find a match
 * less than once in 16), the rest of a value is taken as it is, without a lookup at every byte:
 * about the same size, in half the time for UUIDs. Values that match inside too (JSON text) are
 * compressed as the reference compressor would.
 *
 * INT64 values that mostly grow (times, offsets): each shares its high bytes with the one before, so
 * a value is its low bytes and a copy from 8 bytes back, found without a hash table (compressInt64).
 */

const BLOCK = 1 << 16
const MAX_TABLE_BITS = 14
/** The last bytes of a block are always a literal: a 4-byte load from any position before them stays inside. */
const INPUT_MARGIN = 15
/** Lookups per block before deciding whether matches inside byte array values are worth looking for. */
const TRIAL = 512
/** No value boundary (a piece that is not byte arrays); a small integer keeps the loop's arithmetic integral. */
const NONE = 0x7fffffff
const HASH = 0x1e35a7bd

// Positions within the current block, so 16 bits hold them.
const table = new Uint16Array(1 << MAX_TABLE_BITS)
/** In a piece of byte arrays, the start of the value after the last position looked at; carried from block to block. */
let valueStart = NONE

/**
 * The most bytes `n` input bytes, given as `pieces` pieces, can compress to: snappy.cc's
 * MaxCompressedLength, and 5 more per further piece, since each piece is compressed on its own and
 * may end in a literal tag of its own (at most 5 bytes); a page of many small pieces would overflow
 * the reference bound.
 */
export function snappyMaxLength(n: number, pieces = 1): number {
  return 32 + n + Math.floor(n / 6) + 5 * Math.max(0, pieces - 1)
}

/**
 * What the pieces from index `from` on hold, whole values each: PLAIN byte arrays, or INT64 values
 * that mostly grow (times, offsets). The hint only tunes the search: every input compresses correctly.
 */
export interface ValuesHint {
  from: number
  kind: 'byteArrays' | 'int64'
}

/**
 * Compresses the pieces as one input (their concatenation) into `out` from `at`; returns the end.
 * `out` must have room for snappyMaxLength(total length, number of pieces) bytes. Matches never reach across a piece.
 */
export function snappyCompress(pieces: readonly Uint8Array[], out: Uint8Array, at = 0, values?: ValuesHint): number {
  let total = 0
  for (const p of pieces) total += p.length
  let op = at
  // The uncompressed length as a varint.
  while (total >= 0x80) {
    out[op++] = (total & 0x7f) | 0x80
    total = Math.floor(total / 0x80)
  }
  out[op++] = total
  const outView = new DataView(out.buffer, out.byteOffset, out.byteLength)
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i]!
    const view = new DataView(p.buffer, p.byteOffset, p.byteLength)
    const hinted = values !== undefined && i >= values.from
    if (hinted && values.kind === 'int64') {
      op = compressInt64(p, view, out, outView, op)
      continue
    }
    valueStart = hinted ? 0 : NONE
    for (let start = 0; start < p.length; start += BLOCK) op = compressBlock(p, view, start, Math.min(start + BLOCK, p.length), out, outView, op)
  }
  return op
}

function compressBlock(src: Uint8Array, view: DataView, base: number, end: number, out: Uint8Array, outView: DataView, op: number): number {
  const len = end - base
  let bits = 8
  while (bits < MAX_TABLE_BITS && 1 << bits < len) bits++
  const shift = 32 - bits
  const t = table
  t.fill(0, 0, 1 << bits)
  let nextEmit = base
  let next = valueStart
  let lookups = 0
  let matches = 0
  // Whether to pass over the rest of a value after a failed lookup (byte arrays that match only at their starts).
  let lean = false
  let decided = false
  if (len >= INPUT_MARGIN) {
    const ipLimit = end - INPUT_MARGIN
    let ip = base + 1
    let nextWord = view.getInt32(ip, true)
    let nextHash = Math.imul(nextWord, HASH) >>> shift
    outer: for (;;) {
      // Look for a 4-byte match, stepping further the longer none is found.
      let skip = 32
      let nextIp = ip
      let candidate: number
      for (;;) {
        ip = nextIp
        const word = nextWord
        const h = nextHash
        const step = skip >> 5
        skip += step
        nextIp = ip + step
        // Byte arrays: the first value start at or after nextIp; lean, a position inside a value is passed over.
        while (next < nextIp && next + 4 <= src.length) next += 4 + view.getUint32(next, true)
        if (lean && nextIp < next) nextIp = next
        lookups++
        if (nextIp > ipLimit) break outer
        nextWord = view.getInt32(nextIp, true)
        nextHash = Math.imul(nextWord, HASH) >>> shift
        candidate = base + t[h]!
        t[h] = ip - base
        if (word === view.getInt32(candidate, true)) break
      }
      matches++
      if (!decided && lookups >= TRIAL) {
        decided = true
        lean = next !== NONE && matches * 16 < lookups
      }

      op = literal(src, view, nextEmit, ip, out, outView, op)
      // Copies, as long as the next position matches too (no literal between them).
      for (;;) {
        let s1 = ip + 4
        let s2 = candidate + 4
        while (s1 + 4 <= end && view.getInt32(s1, true) === view.getInt32(s2, true)) {
          s1 += 4
          s2 += 4
        }
        while (s1 < end && src[s1] === src[s2]) {
          s1++
          s2++
        }
        op = copy(ip - candidate, s1 - ip, out, outView, op)
        ip = s1
        nextEmit = ip
        if (ip >= ipLimit) break outer
        // The position before ip goes into the table too, then ip itself is tried.
        t[Math.imul(view.getInt32(ip - 1, true), HASH) >>> shift] = ip - 1 - base
        const word = view.getInt32(ip, true)
        const h = Math.imul(word, HASH) >>> shift
        candidate = base + t[h]!
        t[h] = ip - base
        if (word !== view.getInt32(candidate, true)) break
      }
      ip++
      if (lean) {
        // The rest of this value holds no match worth a lookup: on to the next value.
        while (next < ip && next + 4 <= src.length) next += 4 + view.getUint32(next, true)
        if (ip < next) ip = next
        if (ip > ipLimit) break
      }
      nextWord = view.getInt32(ip, true)
      nextHash = Math.imul(nextWord, HASH) >>> shift
    }
  }
  valueStart = next
  if (nextEmit < end) op = literal(src, view, nextEmit, end, out, outView, op)
  return op
}

/**
 * INT64 values that mostly grow: each value shares its high bytes with the one before, so it is its
 * low bytes as a literal and a copy of the rest from 8 bytes back (a run of equal values, one copy).
 * No hash table: half the reference compressor's time on times and offsets, for the same size.
 */
function compressInt64(src: Uint8Array, view: DataView, out: Uint8Array, outView: DataView, op: number): number {
  const n = src.length
  let emitted = 0
  let copyFrom = 0
  let copyLen = 0
  for (let p = 8; p + 8 <= n; p += 8) {
    const high = view.getInt32(p + 4, true) ^ view.getInt32(p - 4, true)
    const low = view.getInt32(p, true) ^ view.getInt32(p - 8, true)
    // How many of the value's top bytes equal the previous value's.
    const same = high !== 0 ? Math.clz32(high) >>> 3 : low !== 0 ? 4 + (Math.clz32(low) >>> 3) : 8
    if (same < 4) continue
    const from = p + 8 - same
    if (copyLen > 0 && copyFrom + copyLen === from) {
      copyLen += same
      continue
    }
    if (copyLen > 0) {
      op = literalThenCopy(src, view, emitted, copyFrom, copyLen, out, outView, op)
      emitted = copyFrom + copyLen
    }
    copyFrom = from
    copyLen = same
  }
  if (copyLen > 0) {
    op = literalThenCopy(src, view, emitted, copyFrom, copyLen, out, outView, op)
    emitted = copyFrom + copyLen
  }
  if (emitted < n) op = literal(src, view, emitted, n, out, outView, op)
  return op
}

/** The bytes from `from` to `to` as they are, then `len` bytes copied from 8 back; short ones written here (nearly all). */
function literalThenCopy(src: Uint8Array, view: DataView, from: number, to: number, len: number, out: Uint8Array, outView: DataView, op: number): number {
  const n = to - from
  if (n > 0 && n <= 8) {
    out[op++] = (n - 1) << 2
    for (let i = from; i < to; i++) out[op++] = src[i]!
  } else if (n > 0) op = literal(src, view, from, to, out, outView, op)
  if (len < 12) {
    out[op++] = 1 | ((len - 4) << 2)
    out[op++] = 8
    return op
  }
  return copy(8, len, out, outView, op)
}

function literal(src: Uint8Array, view: DataView, from: number, to: number, out: Uint8Array, outView: DataView, op: number): number {
  const n = to - from - 1
  if (n < 60) out[op++] = n << 2
  else if (n < 0x100) {
    out[op++] = 60 << 2
    out[op++] = n
  } else if (n < 0x10000) {
    out[op++] = 61 << 2
    out[op++] = n & 0xff
    out[op++] = n >>> 8
  } else if (n < 0x1000000) {
    out[op++] = 62 << 2
    out[op++] = n & 0xff
    out[op++] = (n >>> 8) & 0xff
    out[op++] = n >>> 16
  } else {
    out[op++] = 63 << 2
    outView.setUint32(op, n, true)
    op += 4
  }
  if (to - from > 64) out.set(src.subarray(from, to), op)
  else {
    // Four bytes at a time: most literals are a few dozen bytes, too short for a native copy.
    let i = from
    let o = op
    for (; i + 4 <= to; i += 4, o += 4) outView.setInt32(o, view.getInt32(i, true), true)
    for (; i < to; i++) out[o++] = src[i]!
  }
  return op + to - from
}

/** A copy of `len` bytes from `offset` back (offset < 64 KiB). */
function copy(offset: number, len: number, out: Uint8Array, outView: DataView, op: number): number {
  // Long copies as 64-byte pieces, keeping the last one at least 4 long.
  while (len >= 68) {
    out[op] = 2 | (63 << 2)
    outView.setUint16(op + 1, offset, true)
    op += 3
    len -= 64
  }
  if (len > 64) {
    out[op] = 2 | (59 << 2)
    outView.setUint16(op + 1, offset, true)
    op += 3
    len -= 60
  }
  if (len < 12 && offset < 2048) {
    out[op++] = 1 | ((len - 4) << 2) | ((offset >>> 8) << 5)
    out[op++] = offset & 0xff
  } else {
    out[op] = 2 | ((len - 1) << 2)
    outView.setUint16(op + 1, offset, true)
    op += 3
  }
  return op
}
