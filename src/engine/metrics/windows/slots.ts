/*
 * Windows' slot arrays, cut from shared chunks. A typed array of its own costs each window an
 * ArrayBuffer (measured: 5.5 µs for 120 slots, a million of them 5.5 s, and the collector counts
 * each as external memory); a view of a shared chunk costs 0.8 µs. That is every new user's first
 * window in the engine, and a backfill's million at once (docs/tenancy.md). A chunk lives while any
 * window cut from it does; windows go only with their user, so chunks stay about as full as made.
 */

/** 1 MiB: about a thousand windows of 120 slots. */
const CHUNK_BYTES = 1 << 20
/** A reservation beyond this is left to ordinary chunks. */
const MAX_RESERVE_BYTES = 2 ** 31

class Chunks<A extends Float64Array | Uint32Array> {
  private chunk: A | null = null
  private used = 0
  /** Slots a chunk holds. */
  private readonly per: number

  constructor(
    private readonly make: (length: number) => A,
    private readonly bytesPerSlot: number,
  ) {
    this.per = CHUNK_BYTES / bytesPerSlot
  }

  /** Slots handed out so far, for slotsTakenBy. */
  taken = 0

  /**
   * Makes sure the next `n` slots come from one chunk allocated now (if the current one has less
   * room). The engine's collector runs a full collection each time about 64 MB of external memory
   * has been allocated since the last: a backfill giving a million users a window each (a GB of
   * slots) in 1 MiB chunks ran 15 of them, half its time (docs/tenancy.md); reserved at once, one.
   * Only a known need is reserved: ordinary growth keeps 1 MiB chunks, so the external memory
   * counted stays what the windows use.
   */
  reserve(n: number): void {
    if (n <= 0 || n > MAX_RESERVE_BYTES / this.bytesPerSlot) return
    if (this.chunk !== null && this.chunk.length - this.used >= n) return
    this.chunk = this.make(Math.max(n, this.per))
    this.used = 0
  }

  take(n: number): A {
    this.taken += n
    // A window larger than a chunk (a setting of thousands of buckets) gets its own array.
    if (n > this.per) return this.make(n)
    if (this.chunk === null || this.used + n > this.chunk.length) {
      this.chunk = this.make(this.per)
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

/** The slots of each kind that `make` takes (a window's, for sizing a reservation). */
export function slotsTakenBy(make: () => unknown): { doubles: number; counts: number } {
  const [d, c] = [doubles.taken, counts.taken]
  make()
  return { doubles: doubles.taken - d, counts: counts.taken - c }
}

/** Makes the next `need` slots of each kind come from one allocation per kind, made now (Chunks.reserve). */
export function reserveSlots(need: { doubles: number; counts: number }): void {
  doubles.reserve(need.doubles)
  counts.reserve(need.counts)
}
