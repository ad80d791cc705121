import type { AggregateFn } from '../rules/index.ts'
import { numeric, scalar, type MetricSnapshot, type MetricState, type Scalar } from './metric-state.ts'

export interface WindowShape {
  bucketMs: number
  /** Buckets in the window: the window at time T covers buckets (bucket(T) − buckets, bucket(T)]. */
  buckets: number
  /** Extra ring slots for events ahead of the clock (allowed lateness). */
  ahead: number
}

/**
 * A sliding event-time window as a ring of buckets. For count/sum/avg a running total over the
 * buckets in the window makes value() O(1); sliding the clock by one bucket adds the bucket that
 * enters and subtracts the one that leaves. Only the arrays an aggregate needs are allocated.
 */
const COUNT = 0
const SUM = 1
const AVG = 2
const MIN = 3
const MAX = 4
const DISTINCT = 5
const KINDS: Record<AggregateFn, number> = { count: COUNT, sum: SUM, avg: AVG, min: MIN, max: MAX, distinct: DISTINCT }

export class WindowedMetric implements MetricState {
  private readonly size: number
  /** The aggregate as a small integer: the hot path switches on it. */
  private readonly kind: number
  /** Start of the clock's bucket and its ring slot, so in-order events skip a division and a modulo. */
  private clockStart: number
  private clockSlot: number
  private counts: Uint32Array | null = null
  private sums: Float64Array | null = null
  private extremes: Float64Array | null = null
  private distinct: Map<Scalar, number> | null = null
  /** Bucket of the clock. */
  private clock: number
  /** Start of the bucket after the clock's: advance() is a no-op before it. */
  private clockEnd: number
  /** Highest bucket whose slot is live; slots hold buckets (head − size, head]. */
  private head: number
  private totalCount = 0
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
    this.size = shape.buckets + shape.ahead
    this.kind = KINDS[agg]
    this.clock = Math.floor(T / shape.bucketMs)
    this.clockStart = this.clock * shape.bucketMs
    this.clockEnd = this.clockStart + shape.bucketMs
    this.clockSlot = this.clock % this.size
    this.head = this.clock
    if (agg === 'count' || agg === 'avg') this.counts = new Uint32Array(this.size)
    if (agg === 'sum' || agg === 'avg') this.sums = new Float64Array(this.size)
    if (agg === 'min' || agg === 'max') this.extremes = new Float64Array(this.size).fill(NaN)
    if (agg === 'distinct') this.distinct = new Map()
  }

  advance(T: number): void {
    // Most calls land in the clock's own bucket: a comparison instead of a division.
    if (T < this.clockEnd) return
    const to = Math.floor(T / this.shape.bucketMs)
    if (to <= this.clock) return
    const { buckets } = this.shape
    if (this.counts || this.sums) {
      if (to - this.clock >= buckets) {
        this.clock = to
        this.raiseHead(to)
        this.recount()
      } else {
        for (let j = this.clock + 1; j <= to; j++) {
          this.slide(j, 1)
          this.slide(j - buckets, -1)
        }
        this.clock = to
        this.raiseHead(to)
      }
    } else {
      this.clock = to
      this.raiseHead(to)
    }
    this.clockStart = to * this.shape.bucketMs
    this.clockEnd = this.clockStart + this.shape.bucketMs
    this.clockSlot = to % this.size
    if (this.oldest <= to - buckets) this.findOldest()
    if (this.distinct) for (const [v, b] of this.distinct) if (b <= to - buckets) this.distinct.delete(v)
  }

  add(ts: number, value: unknown): boolean {
    let k: number
    let slot: number
    let inWindow: boolean
    if (ts >= this.clockStart && ts < this.clockEnd) {
      k = this.clock
      slot = this.clockSlot
      inWindow = true
    } else {
      k = Math.floor(ts / this.shape.bucketMs)
      if (k <= this.clock - this.shape.buckets) return false
      if (k > this.head) {
        // Further ahead than the ring holds: cannot happen while the clock follows the watermark.
        if (k - this.clock >= this.size) return false
        this.raiseHead(k)
      }
      slot = k % this.size
      inWindow = k <= this.clock
    }
    switch (this.kind) {
      case COUNT:
        this.counts![slot]!++
        if (inWindow) this.totalCount++
        break
      case SUM: {
        const n = numeric(value)
        if (n === null || n === 0) return true
        if (n < 0) this.hasNegative = true
        this.sums![slot]! += n
        if (inWindow) this.totalSum += n
        break
      }
      case AVG: {
        const n = numeric(value)
        if (n === null) return true
        if (n < 0) this.hasNegative = true
        this.sums![slot]! += n
        this.counts![slot]!++
        if (inWindow) {
          this.totalSum += n
          this.totalCount++
        }
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
        return this.totalSum
      case AVG:
        return this.totalCount === 0 ? null : this.totalSum / this.totalCount
      case MIN:
      case MAX: {
        let best: number | null = null
        for (let k = this.clock - this.shape.buckets + 1; k <= this.clock; k++) {
          const v = this.extremes![k % this.size]!
          if (Number.isNaN(v) || k > this.head) continue
          if (best === null || (this.kind === MIN ? v < best : v > best)) best = v
        }
        return best
      }
      default: {
        let n = 0
        for (const b of this.distinct!.values()) if (b <= this.clock) n++
        return n
      }
    }
  }

  peek(T: number): number | null {
    const to = Math.floor(T / this.shape.bucketMs)
    if (to <= this.clock) return this.value()
    const from = to - this.shape.buckets + 1
    if (this.distinct) {
      let n = 0
      for (const b of this.distinct.values()) if (b >= from && b <= to) n++
      return n
    }
    let count = 0
    let sum = 0
    let best: number | null = null
    for (let k = Math.max(from, this.head - this.size + 1); k <= Math.min(to, this.head); k++) {
      const slot = k % this.size
      if (this.counts) count += this.counts[slot]!
      if (this.sums) sum += this.sums[slot]!
      if (this.extremes) {
        const v = this.extremes[slot]!
        if (!Number.isNaN(v) && (best === null || (this.kind === MIN ? v < best : v > best))) best = v
      }
    }
    if (this.kind === COUNT) return count
    if (this.kind === SUM) return sum
    if (this.kind === AVG) return count === 0 ? null : sum / count
    return best
  }

  nextChange(): number {
    let next = this.oldest === Infinity ? Infinity : (this.oldest + this.shape.buckets) * this.shape.bucketMs
    if (this.distinct) for (const b of this.distinct.values()) next = Math.min(next, (b + this.shape.buckets) * this.shape.bucketMs)
    return Math.min(next, this.nextEnter())
  }

  /** When the first bucket ahead of the clock (allowed lateness) enters the window; Infinity if none. */
  nextEnter(): number {
    for (let k = this.clock + 1; k <= this.head; k++) {
      if (this.slotNonEmpty(k)) return k * this.shape.bucketMs
    }
    return Infinity
  }

  isEmpty(): boolean {
    return this.oldest === Infinity && (this.distinct === null || this.distinct.size === 0)
  }

  snapshot(): MetricSnapshot {
    return {
      kind: 'w',
      agg: this.agg,
      clock: this.clock,
      head: this.head,
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

  static restore(s: MetricSnapshot, agg: AggregateFn, shape: WindowShape): WindowedMetric | null {
    const size = shape.buckets + shape.ahead
    const sameShape = (a: unknown) => a === null || (Array.isArray(a) && a.length === size)
    if (s.agg !== agg || !sameShape(s.counts) || !sameShape(s.sums) || !sameShape(s.ext)) return null
    const m = new WindowedMetric(agg, shape, 0)
    m.clock = s.clock as number
    m.clockStart = m.clock * shape.bucketMs
    m.clockEnd = m.clockStart + shape.bucketMs
    m.clockSlot = m.clock % m.size
    m.head = s.head as number
    m.oldest = (s.oldest as number | null) ?? Infinity
    m.totalCount = s.tc as number
    m.totalSum = s.ts as number
    m.hasNegative = s.neg === true
    if (m.counts && s.counts) m.counts.set(s.counts as number[])
    if (m.sums && s.sums) m.sums.set(s.sums as number[])
    if (m.extremes && s.ext) m.extremes.set((s.ext as Array<number | null>).map((v) => v ?? NaN))
    if (m.distinct && s.distinct) m.distinct = new Map(s.distinct as Array<[Scalar, number]>)
    return m
  }

  private slotNonEmpty(k: number): boolean {
    const slot = k % this.size
    if (this.counts) return this.counts[slot] !== 0
    if (this.sums) return this.sums[slot] !== 0
    if (this.extremes) return !Number.isNaN(this.extremes[slot]!)
    return false
  }

  private slide(k: number, sign: 1 | -1): void {
    // Only buckets still held in the ring have data; anything older or not yet written is zero.
    if (k > this.head || k <= this.head - this.size) return
    const slot = k % this.size
    if (this.counts) this.totalCount += sign * this.counts[slot]!
    if (this.sums) this.totalSum += sign * this.sums[slot]!
    if (sign < 0 && this.totalCount === 0 && this.agg === 'avg') this.totalSum = 0
  }

  private raiseHead(to: number): void {
    if (to <= this.head) return
    const from = Math.max(this.head + 1, to - this.size + 1)
    for (let k = from; k <= to; k++) {
      const slot = k % this.size
      if (this.counts) this.counts[slot] = 0
      if (this.sums) this.sums[slot] = 0
      if (this.extremes) this.extremes[slot] = NaN
    }
    this.head = to
  }

  private recount(): void {
    this.totalCount = 0
    this.totalSum = 0
    for (let k = this.clock - this.shape.buckets + 1; k <= this.clock; k++) this.slide(k, 1)
  }

  private findOldest(): void {
    this.oldest = Infinity
    for (let k = Math.max(this.clock - this.shape.buckets + 1, this.head - this.size + 1); k <= this.head; k++) {
      if (this.slotNonEmpty(k)) {
        this.oldest = k
        return
      }
    }
    // An empty window sums to exactly zero, whatever rounding the running total picked up.
    this.totalCount = 0
    this.totalSum = 0
  }
}
