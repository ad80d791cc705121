import { argsortU32 } from '../radix-sort.ts'

export const KIND_SESSION_START = 0
export const KIND_SPIN = 1
export const KIND_PURCHASE = 2
export const KIND_LEVEL_UP = 3

/** Event names by kind. */
export const LIFECYCLE_EVENTS = ['session_start', 'spin', 'purchase', 'level_up'] as const

/** Fields per event in `rec`: 32 bytes, so reading an event in time order touches one cache line. */
export const STRIDE = 4
/** ms in a day < 2^27; with 2 bits of kind and 24 of player the first field stays a safe integer. */
const TIME_BITS = 2 ** 27
export const MAX_DAY_PLAYERS = 2 ** 24

/**
 * One simulated day's events in generation order (player by player), then sorted by time. Events
 * are records in one array rather than a column per field: the writer reads them in time order,
 * which jumps around when events of overlapping sessions interleave, and a column per field meant
 * a cache miss per field. Reused from day to day, so a run allocates only
 * when a day is busier than any before it.
 */
export class DayBuffer {
  count = 0
  /** Index of the day in the run: 0 is the first. */
  day = 0
  /** ms since the day started, by event: the sort key. */
  time = new Uint32Array(1024)
  /**
   * Per event: (player·4 + kind)·2^27 + time; a (session_start: the bonus paid, 0 for none; spin:
   * the bet; purchase: an index into PURCHASE_PRICES; level_up: the level); b (spin: the win); the
   * wallet after the event.
   */
  rec = new Float64Array(1024 * STRIDE)
  /** Output order: indices sorted by time, ties in generation order (set by sort()). */
  order: Uint32Array = new Uint32Array(0)

  reset(day: number): void {
    this.count = 0
    this.day = day
  }

  push(time: number, player: number, kind: number, a: number, b: number, wealth: number): void {
    if (this.count === this.time.length) this.grow()
    const n = this.count++
    this.time[n] = time
    const r = n * STRIDE
    this.rec[r] = (player * 4 + kind) * TIME_BITS + time
    this.rec[r + 1] = a
    this.rec[r + 2] = b
    this.rec[r + 3] = wealth
  }

  /** Orders the day by time. The sort is stable and each player's sessions never overlap, so every player's events stay in the order their wallet changed. */
  sort(): void {
    this.order = argsortU32(this.time.subarray(0, this.count))
  }

  private grow(): void {
    const time = new Uint32Array(this.time.length * 2)
    time.set(this.time)
    const rec = new Float64Array(this.rec.length * 2)
    rec.set(this.rec)
    this.time = time
    this.rec = rec
  }
}

/** The parts of an event's first field. */
export const timeOf = (head: number): number => head % TIME_BITS
export const kindOf = (head: number): number => Math.floor(head / TIME_BITS) & 3
export const playerOf = (head: number): number => Math.floor(head / (4 * TIME_BITS))
