import type { AggregateFn } from '../../rules/index.ts'
import type { WindowShape } from '../window-shape.ts'
import { fromMicros, toMicros } from './exact-sum.ts'
import { numeric, scalar, type MetricSnapshot, type MetricState, type Scalar } from './metric-state.ts'

/**
 * A sliding event-time window as a ring of buckets: the window at clock bucket c holds buckets
 * (c − n, c]. The engine only adds events whose time is at or before the clock (events ahead of
 * the watermark wait in the partition's held buffer), so the ring needs exactly n slots.
 *
 * For count/sum/avg a running total over the buckets in the window makes value() O(1); moving the
 * clock by one bucket subtracts the bucket that leaves. Sums are whole millionths (exact-sum.ts),
 * so the running total never drifts. Only the arrays an aggregate needs are allocated.
 */
const COUNT = 0
const SUM = 1
const AVG = 2
const MIN = 3
const MAX = 4
const DISTINCT = 5
const KINDS: Record<AggregateFn, number> = { count: COUNT, sum: SUM, avg: AVG, min: MIN, max: MAX, distinct: DISTINCT }

/** Checkpoints written before the exact windows (rings with slots ahead of the clock, float sums). */
const SNAPSHOT_VERSION = 2
/** The one window shape whose buckets were the same before: 120 buckets dividing the window exactly. */
const LEGACY_BUCKETS = 120

export class WindowedMetric implements MetricState {
  /** The aggregate as a small integer: the hot path switches on it. */
  private readonly kind: number
  private counts: Uint32Array | null = null
  /** Whole millionths per bucket. */
  private sums: Float64Array | null = null
  private extremes: Float64Array | null = null
  /** Each value's latest bucket in the window. */
  private distinct: Map<Scalar, number> | null = null
  /** Bucket of the clock. */
  private clock: number
  /** Start of the bucket after the clock's: advance() is a no-op before it. */
  private clockEnd: number
  private totalCount = 0
  /** Whole millionths. */
  private totalSum = 0
  /** Oldest non-empty bucket, or Infinity: when it leaves the window the value can change. */
  private oldest = Infinity
  /** A negative value was summed: sliding out may then raise the sum, so the rule is not monotonic. */
  hasNegative = false

  constructor(
    readonly agg: AggregateFn,
    private readonly shape: WindowShape,
    T: number,
  ) {
    this.kind = KINDS[agg]
    this.clock = Math.floor(T / shape.bucketMs)
    this.clockEnd = (this.clock + 1) * shape.bucketMs
    const n = shape.buckets
    if (agg === 'count' || agg === 'avg') this.counts = new Uint32Array(n)
    if (agg === 'sum' || agg === 'avg') this.sums = new Float64Array(n)
    if (agg === 'min' || agg === 'max') this.extremes = new Float64Array(n).fill(NaN)
    if (agg === 'distinct') this.distinct = new Map()
  }

  advance(T: number): void {
    // Most calls land in the clock's own bucket: a comparison instead of a division.
    if (T < this.clockEnd) return
    const to = Math.floor(T / this.shape.bucketMs)
    if (to <= this.clock) return
    const n = this.shape.buckets
    if (to - this.clock >= n || this.oldest === Infinity) {
      this.clear()
    } else {
      // Buckets (clock − n, to − n] leave; their slots become the new buckets (clock, to].
      for (let k = this.clock + 1; k <= to; k++) this.evict(k - n)
    }
    this.clock = to
    this.clockEnd = (to + 1) * this.shape.bucketMs
    if (this.oldest <= to - n) this.findOldest()
    if (this.distinct) for (const [v, b] of this.distinct) if (b <= to - n) this.distinct.delete(v)
  }

  add(ts: number, value: unknown): boolean {
    let k = this.clock
    if (ts < this.clockEnd - this.shape.bucketMs) {
      k = Math.floor(ts / this.shape.bucketMs)
      if (k <= this.clock - this.shape.buckets) return false
    }
    const slot = k % this.shape.buckets
    switch (this.kind) {
      case COUNT:
        this.counts![slot]!++
        this.totalCount++
        break
      case SUM: {
        const n = numeric(value)
        if (n === null) return true
        const m = toMicros(n)
        if (m === 0) return true
        if (m < 0) this.hasNegative = true
        this.sums![slot]! += m
        this.totalSum += m
        break
      }
      case AVG: {
        const n = numeric(value)
        if (n === null) return true
        const m = toMicros(n)
        if (m < 0) this.hasNegative = true
        this.sums![slot]! += m
        this.counts![slot]!++
        this.totalSum += m
        this.totalCount++
        break
      }
      case MIN:
      case MAX: {
        const n = numeric(value)
        if (n === null) return true
        const cur = this.extremes![slot]!
        if (Number.isNaN(cur) || (this.kind === MIN ? n < cur : n > cur)) this.extremes![slot] = n
        break
      }
      default: {
        const s = scalar(value)
        if (s === null) return true
        const prev = this.distinct!.get(s)
        if (prev === undefined || prev < k) this.distinct!.set(s, k)
      }
    }
    if (k < this.oldest) this.oldest = k
    return true
  }

  value(): number | null {
    switch (this.kind) {
      case COUNT:
        return this.totalCount
      case SUM:
        return fromMicros(this.totalSum)
      case AVG:
        return this.totalCount === 0 ? null : fromMicros(this.totalSum) / this.totalCount
      case MIN:
      case MAX:
        return this.extreme(this.clock - this.shape.buckets + 1)
      default:
        return this.distinct!.size
    }
  }

  peek(T: number): number | null {
    const to = Math.floor(T / this.shape.bucketMs)
    if (to <= this.clock) return this.value()
    const from = Math.max(to - this.shape.buckets + 1, this.clock - this.shape.buckets + 1)
    if (this.distinct) {
      let n = 0
      for (const b of this.distinct.values()) if (b >= from) n++
      return n
    }
    if (this.extremes) return this.extreme(from)
    let count = 0
    let sum = 0
    for (let k = from; k <= this.clock; k++) {
      const slot = k % this.shape.buckets
      if (this.counts) count += this.counts[slot]!
      if (this.sums) sum += this.sums[slot]!
    }
    if (this.kind === COUNT) return count
    if (this.kind === SUM) return fromMicros(sum)
    return count === 0 ? null : fromMicros(sum) / count
  }

  nextChange(): number {
    const n = this.shape.buckets
    let next = this.oldest === Infinity ? Infinity : (this.oldest + n) * this.shape.bucketMs
    if (this.distinct) for (const b of this.distinct.values()) next = Math.min(next, (b + n) * this.shape.bucketMs)
    return next
  }

  isEmpty(): boolean {
    return this.oldest === Infinity && (this.distinct === null || this.distinct.size === 0)
  }

  snapshot(): MetricSnapshot {
    return {
      kind: 'w',
      v: SNAPSHOT_VERSION,
      agg: this.agg,
      clock: this.clock,
      oldest: this.oldest === Infinity ? null : this.oldest,
      tc: this.totalCount,
      ts: this.totalSum,
      counts: this.counts ? Array.from(this.counts) : null,
      sums: this.sums ? Array.from(this.sums) : null,
      ext: this.extremes ? Array.from(this.extremes, (v) => (Number.isNaN(v) ? null : v)) : null,
      distinct: this.distinct ? [...this.distinct] : null,
      neg: this.hasNegative,
    }
  }

  /** Null when the snapshot does not fit this shape (the window changed): the metric starts empty. */
  static restore(s: MetricSnapshot, agg: AggregateFn, shape: WindowShape): WindowedMetric | null {
    if (s.agg !== agg) return null
    const m = new WindowedMetric(agg, shape, 0)
    m.clock = s.clock as number
    m.clockEnd = (m.clock + 1) * shape.bucketMs
    m.hasNegative = s.neg === true
    if (s.v === SNAPSHOT_VERSION) {
      const sameShape = (a: unknown) => a === null || (Array.isArray(a) && a.length === shape.buckets)
      if (!sameShape(s.counts) || !sameShape(s.sums) || !sameShape(s.ext)) return null
      if (m.counts && s.counts) m.counts.set(s.counts as number[])
      if (m.sums && s.sums) m.sums.set(s.sums as number[])
      if (m.extremes && s.ext) m.extremes.set((s.ext as Array<number | null>).map((v) => v ?? NaN))
    } else if (!m.restoreFirstVersion(s)) return null
    if (m.distinct && s.distinct) m.distinct = new Map(s.distinct as Array<[Scalar, number]>)
    m.recount()
    return m
  }

  /**
   * A checkpoint from before the exact windows: a ring of n + ahead slots holding buckets
   * (head − size, head] and sums as floats. Same bucket size only (a window that is a multiple of
   * 120 ms kept its buckets); its buckets in the window are copied, sums rounded to millionths.
   */
  private restoreFirstVersion(s: MetricSnapshot): boolean {
    // Only a default-shaped window (a multiple of 120 ms at 120 buckets) had the same buckets then;
    // any other starts empty after the upgrade (docs/engine.md, "Checkpoints from older versions").
    if (this.shape.buckets !== LEGACY_BUCKETS) return false
    const arrays = [s.counts, s.sums, s.ext].filter((a): a is unknown[] => Array.isArray(a))
    const size = arrays[0]?.length ?? this.shape.buckets + 1
    if (arrays.some((a) => a.length !== size) || size < this.shape.buckets) return false
    const head = typeof s.head === 'number' ? s.head : this.clock
    // Buckets ahead of the clock (events that waited for the watermark) are not carried over.
    for (let k = Math.max(this.clock - this.shape.buckets + 1, head - size + 1); k <= Math.min(this.clock, head); k++) {
      const from = k % size
      const to = k % this.shape.buckets
      if (this.counts && Array.isArray(s.counts)) this.counts[to] = s.counts[from] as number
      if (this.sums && Array.isArray(s.sums)) this.sums[to] = toMicros(s.sums[from] as number)
      if (this.extremes && Array.isArray(s.ext)) this.extremes[to] = (s.ext[from] as number | null) ?? NaN
    }
    if (this.distinct && Array.isArray(s.distinct)) s.distinct = (s.distinct as Array<[Scalar, number]>).filter(([, b]) => b <= this.clock)
    return true
  }

  private extreme(from: number): number | null {
    let best: number | null = null
    for (let k = from; k <= this.clock; k++) {
      const v = this.extremes![k % this.shape.buckets]!
      if (Number.isNaN(v)) continue
      if (best === null || (this.kind === MIN ? v < best : v > best)) best = v
    }
    return best
  }

  private slotNonEmpty(k: number): boolean {
    const slot = k % this.shape.buckets
    if (this.counts) return this.counts[slot] !== 0
    if (this.sums) return this.sums[slot] !== 0
    if (this.extremes) return !Number.isNaN(this.extremes[slot]!)
    return false
  }

  /** Bucket k leaves the window: its slot is emptied for the bucket n later. */
  private evict(k: number): void {
    const slot = k % this.shape.buckets
    if (this.counts) {
      this.totalCount -= this.counts[slot]!
      this.counts[slot] = 0
    }
    if (this.sums) {
      this.totalSum -= this.sums[slot]!
      this.sums[slot] = 0
    }
    if (this.extremes) this.extremes[slot] = NaN
  }

  private clear(): void {
    this.counts?.fill(0)
    this.sums?.fill(0)
    this.extremes?.fill(NaN)
    this.totalCount = 0
    this.totalSum = 0
    this.oldest = Infinity
  }

  private recount(): void {
    this.totalCount = 0
    this.totalSum = 0
    this.oldest = Infinity
    for (let k = this.clock - this.shape.buckets + 1; k <= this.clock; k++) {
      const slot = k % this.shape.buckets
      if (this.counts) this.totalCount += this.counts[slot]!
      if (this.sums) this.totalSum += this.sums[slot]!
      if (this.oldest === Infinity && this.slotNonEmpty(k)) this.oldest = k
    }
  }

  private findOldest(): void {
    this.oldest = Infinity
    for (let k = this.clock - this.shape.buckets + 1; k <= this.clock; k++) {
      if (this.slotNonEmpty(k)) {
        this.oldest = k
        return
      }
    }
  }
}
