/**
 * The record bytes of a fetch response as the socket delivered them: a run of buffers (64 KiB reads,
 * mostly) read as one sequence of bytes, positions counted from its first byte.
 *
 * Why not one Buffer: joining a multi-megabyte response meant copying it into a new allocation, and
 * fresh memory pays a page fault for every 4 KiB touched. That was a tenth of a catching-up worker's
 * CPU (the copy and its faults, ~0.17 µs an event on seed 000). Reading the socket's own buffers in
 * place copies only the records that straddle two of them (records.ts), and a value read from the
 * response keeps one socket buffer alive, not the whole response.
 */
export class ResponseBytes {
  readonly length: number
  /** Position of each buffer's first byte. */
  private readonly starts: number[]
  /** The buffer the last position looked up fell in: reads go forward through a response. */
  private last = 0

  private constructor(readonly buffers: readonly Buffer[]) {
    const starts: number[] = []
    let at = 0
    for (const b of buffers) {
      starts.push(at)
      at += b.length
    }
    this.starts = starts
    this.length = at
  }

  /** The bytes of these buffers, one after the other (empty buffers are left out). */
  static of(buffers: readonly Buffer[]): ResponseBytes {
    return new ResponseBytes(buffers.filter((b) => b.length > 0))
  }

  /** Index of the buffer holding byte `pos` (0 ≤ pos < length). */
  bufferAt(pos: number): number {
    const starts = this.starts
    const i = this.last
    if (pos >= starts[i]! && pos < starts[i]! + this.buffers[i]!.length) return i
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (starts[mid]! <= pos) lo = mid
      else hi = mid - 1
    }
    this.last = lo
    return lo
  }

  /** Position of buffer `i`'s first byte. */
  startOf(i: number): number {
    return this.starts[i]!
  }

  /** Bytes [pos, pos + n): a view when one buffer holds them all, else a copy. */
  bytes(pos: number, n: number): Buffer {
    if (n <= 0) return Buffer.alloc(0)
    const i = this.bufferAt(pos)
    const b = this.buffers[i]!
    const local = pos - this.starts[i]!
    if (local + n <= b.length) return b.subarray(local, local + n)
    const out = Buffer.allocUnsafe(n)
    let written = 0
    for (let k = i; written < n; k++) {
      const from = this.buffers[k]!
      const s = k === i ? local : 0
      written += from.copy(out, written, s, Math.min(from.length, s + n - written))
    }
    return out
  }

  int16(pos: number): number {
    return this.bytes(pos, 2).readInt16BE(0)
  }

  int32(pos: number): number {
    return this.bytes(pos, 4).readInt32BE(0)
  }

  /** A signed 64-bit big-endian integer, exact up to 2^53. */
  int64(pos: number): number {
    return int64(this.bytes(pos, 8), 0)
  }

  /** Byte ranges [start, end) of these, one after the other, as one sequence (sharing these buffers). */
  pick(ranges: ReadonlyArray<readonly [number, number]>): ResponseBytes {
    const out: Buffer[] = []
    for (const [start, end] of ranges) {
      for (let pos = start; pos < end;) {
        const i = this.bufferAt(pos)
        const b = this.buffers[i]!
        const local = pos - this.starts[i]!
        const n = Math.min(b.length - local, end - pos)
        out.push(b.subarray(local, local + n))
        pos += n
      }
    }
    return ResponseBytes.of(out)
  }

  /** The bytes from `pos` on (sharing these buffers). */
  from(pos: number): ResponseBytes {
    if (pos <= 0) return this
    if (pos >= this.length) return ResponseBytes.of([])
    const i = this.bufferAt(pos)
    const rest = this.buffers.slice(i)
    rest[0] = rest[0]!.subarray(pos - this.starts[i]!)
    return new ResponseBytes(rest)
  }
}

/**
 * A signed 64-bit big-endian integer at buf[pos], exact up to 2^53. From the bytes, not
 * readInt32BE: Node's Buffer readers check their offset argument on every call, and every record's
 * time header is read here (decoding seed 000's records in process: 95 → 82 ns a record).
 */
export function int64(buf: Uint8Array, pos: number): number {
  const hi = (buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!
  const lo = ((buf[pos + 4]! << 24) | (buf[pos + 5]! << 16) | (buf[pos + 6]! << 8) | buf[pos + 7]!) >>> 0
  return hi * 0x1_0000_0000 + lo
}

/** Bytes given as one Buffer (tests, a compressed batch) or as the response's run of buffers. */
export function responseBytes(b: Buffer | ResponseBytes): ResponseBytes {
  return b instanceof ResponseBytes ? b : ResponseBytes.of([b])
}
