/*
 * Windows' slot arrays, cut from shared chunks. A typed array of its own costs each window an
 * ArrayBuffer (measured: 5.5 µs for 120 slots, a million of them 5.5 s, and the collector counts
 * each as external memory); a view of a shared chunk costs 0.8 µs. That is every new user's first
 * window in the engine, and a backfill's million at once (docs/tenancy.md). A chunk lives while any
 * window cut from it does; windows go only with their user, so chunks stay about as full as made.
 */

/** 1 MiB: about a thousand windows of 120 slots. */
const CHUNK_BYTES = 1 << 20

class Chunks<A extends Float64Array | Uint32Array> {
  private chunk: A | null = null
  private used = 0
  /** Slots a chunk holds. */
  private readonly per: number

  constructor(
    private readonly make: (length: number) => A,
    bytesPerSlot: number,
  ) {
    this.per = CHUNK_BYTES / bytesPerSlot
  }

  take(n: number): A {
    const per = this.per
    // A window larger than a chunk (a setting of thousands of buckets) gets its own array.
    if (n > per) return this.make(n)
    if (this.chunk === null || this.used + n > per) {
      this.chunk = this.make(per)
      this.used = 0
    }
    const slots = this.chunk.subarray(this.used, this.used + n) as A
    this.used += n
    return slots
  }
}

const doubles = new Chunks((n) => new Float64Array(n), Float64Array.BYTES_PER_ELEMENT)
const counts = new Chunks((n) => new Uint32Array(n), Uint32Array.BYTES_PER_ELEMENT)

/** `n` zeroed double slots. */
export function doubleSlots(n: number): Float64Array {
  return doubles.take(n)
}

/** `n` zeroed count slots. */
export function countSlots(n: number): Uint32Array {
  return counts.take(n)
}
