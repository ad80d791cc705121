import type { AggregateFn } from '../../rules/index.ts'
import type { WindowShape } from '../../rules/window-shape.ts'
import type { MetricState } from './metric-state.ts'
import { firstVersionFields } from './windows/first-version.ts'
import { WINDOW_AGGREGATES } from './windows/registry.ts'
import type { WindowAggregate } from './windows/window-aggregate.ts'
import { WINDOW_SNAPSHOT_VERSION, type StoredWindow, type WindowSnapshot } from './windows/window-snapshot.ts'

/**
 * A sliding event-time window as a ring of buckets, shared by every windowed aggregate: the window
 * at clock bucket c holds buckets (c − n, c]. The engine only adds events whose time is at or
 * before the clock (events ahead of the watermark wait in the partition's held buffer), so the ring
 * needs exactly n slots.
 *
 * This class keeps the time bookkeeping (the clock's bucket, which buckets leave as it moves, the
 * oldest non-empty bucket that tells when the value next changes); what a bucket holds is the
 * aggregate's (windows/, one type per aggregate, listed in windows/registry.ts). The engine holds
 * this one class for every windowed aggregate, so its per-event calls stay monomorphic.
 */
export class WindowedMetric implements MetricState {
  /** Start of the bucket after the clock's: advance() is a no-op before it. */
  private clockEnd: number
  /** Oldest non-empty bucket, or Infinity: when it leaves the window the value can change. */
  private oldest = Infinity

  private constructor(
    readonly aggregate: WindowAggregate,
    private readonly shape: WindowShape,
    /** Bucket of the clock. */
    private clock: number,
  ) {
    this.clockEnd = (clock + 1) * shape.bucketMs
  }

  /** An empty window of aggregate `agg` with its clock at T. */
  static empty(agg: AggregateFn, shape: WindowShape, T: number): WindowedMetric {
    return new WindowedMetric(new WINDOW_AGGREGATES[agg](shape.buckets), shape, Math.floor(T / shape.bucketMs))
  }

  get agg(): AggregateFn {
    return this.aggregate.agg
  }

  /** A negative value was summed: sliding out may then raise the sum, so the rule is not monotonic. */
  get hasNegative(): boolean {
    return this.aggregate.hasNegative
  }

  advance(T: number): void {
    // Most calls land in the clock's own bucket: a comparison instead of a division.
    if (T < this.clockEnd) return
    const to = Math.floor(T / this.shape.bucketMs)
    if (to <= this.clock) return
    const n = this.shape.buckets
    if (to - this.clock >= n || this.oldest === Infinity) {
      this.aggregate.clear()
      this.oldest = Infinity
    } else {
      // Buckets (clock − n, to − n] leave; their slots become the new buckets (clock, to].
      for (let k = this.clock + 1; k <= to; k++) this.aggregate.evict((k - n) % n)
    }
    this.clock = to
    this.clockEnd = (to + 1) * this.shape.bucketMs
    if (this.oldest <= to - n) this.findOldest()
    this.aggregate.expire(to - n)
  }

  add(ts: number, value: unknown): boolean {
    let k = this.clock
    if (ts < this.clockEnd - this.shape.bucketMs) {
      k = Math.floor(ts / this.shape.bucketMs)
      if (k <= this.clock - this.shape.buckets) return false
    }
    if (this.aggregate.add(k % this.shape.buckets, k, value) && k < this.oldest) this.oldest = k
    return true
  }

  value(): number | null {
    return this.aggregate.value(this.clock - this.shape.buckets + 1, this.clock)
  }

  peek(T: number): number | null {
    const to = Math.floor(T / this.shape.bucketMs)
    if (to <= this.clock) return this.value()
    const n = this.shape.buckets
    return this.aggregate.peek(Math.max(to - n + 1, this.clock - n + 1), this.clock)
  }

  nextChange(): number {
    const n = this.shape.buckets
    const next = this.oldest === Infinity ? Infinity : (this.oldest + n) * this.shape.bucketMs
    return Math.min(next, (this.aggregate.firstKept() + n) * this.shape.bucketMs)
  }

  isEmpty(): boolean {
    return this.oldest === Infinity && this.aggregate.keepsNothing()
  }

  merge(other: MetricState): void {
    if (!(other instanceof WindowedMetric) || other.shape.bucketMs !== this.shape.bucketMs || other.shape.buckets !== this.shape.buckets) {
      throw new Error(`cannot merge a ${other.agg} state into a windowed ${this.agg} of another shape`)
    }
    const clock = Math.max(this.clock, other.clock)
    this.advance(clock * this.shape.bucketMs)
    other.advance(clock * this.shape.bucketMs)
    this.aggregate.merge(other.aggregate)
    this.findOldest()
    this.aggregate.expire(this.clock - this.shape.buckets)
  }

  snapshot(): WindowSnapshot {
    return {
      kind: 'w',
      v: WINDOW_SNAPSHOT_VERSION,
      agg: this.agg,
      clock: this.clock,
      oldest: this.oldest === Infinity ? null : this.oldest,
      ...this.aggregate.snapshot(),
    }
  }

  /**
   * Null when the snapshot does not fit this aggregate and shape (the window changed) or is
   * malformed: the metric starts empty. Reads version 2 and, through first-version.ts, version 1.
   */
  static restore(s: StoredWindow, agg: AggregateFn, shape: WindowShape): WindowedMetric | null {
    if (s.agg !== agg || typeof s.clock !== 'number') return null
    const fields = s.v === WINDOW_SNAPSHOT_VERSION ? (slotsFit(s, shape.buckets) ? s : null) : firstVersionFields(s, s.clock, shape)
    const aggregate = fields === null ? null : WINDOW_AGGREGATES[agg].restore(fields, shape.buckets)
    if (aggregate === null) return null
    const m = new WindowedMetric(aggregate, shape, s.clock)
    m.findOldest()
    return m
  }

  private findOldest(): void {
    this.oldest = Infinity
    const n = this.shape.buckets
    for (let k = this.clock - n + 1; k <= this.clock; k++) {
      if (this.aggregate.holds(k % n)) {
        this.oldest = k
        return
      }
    }
  }
}

/** Every slot array of a version-2 snapshot is absent or exactly one slot per bucket. */
function slotsFit(s: StoredWindow, buckets: number): boolean {
  const fits = (a: unknown) => a === null || (Array.isArray(a) && a.length === buckets)
  return fits(s.counts) && fits(s.sums) && fits(s.ext)
}
