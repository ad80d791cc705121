import { fromMicros, toMicros } from '../exact-sum.ts'
import { numeric } from '../metric-state.ts'
import { sameKind, SlotsOnly, type WindowAggregate } from './window-aggregate.ts'
import { asNumber, copySlots, slotArray, type StoredWindow, type WindowFields } from './window-snapshot.ts'
import { countSlots, doubleSlots } from './slots.ts'

export type AvgFields = WindowFields & {
  counts: number[]
  sums: number[]
  ext: null
  distinct: null
}

/** avg(e.f, w): a sum in whole millionths and a count of numeric values, per bucket and running. */
export class AvgWindow extends SlotsOnly implements WindowAggregate {
  private readonly counts: Uint32Array
  /** Whole millionths. */
  private readonly sums: Float64Array
  private count = 0
  private sum = 0
  hasNegative = false

  constructor(buckets: number) {
    super()
    this.counts = countSlots(buckets)
    this.sums = doubleSlots(buckets)
  }

  get agg(): 'avg' {
    return 'avg'
  }

  add(slot: number, _bucket: number, value: unknown): boolean {
    const n = numeric(value)
    if (n === null) return false
    const m = toMicros(n)
    if (m < 0) this.hasNegative = true
    this.sums[slot] = (this.sums[slot] ?? 0) + m
    this.counts[slot] = (this.counts[slot] ?? 0) + 1
    this.sum += m
    this.count++
    return true
  }

  evict(slot: number): void {
    this.count -= this.counts[slot] ?? 0
    this.counts[slot] = 0
    this.sum -= this.sums[slot] ?? 0
    this.sums[slot] = 0
  }

  clear(): void {
    this.counts.fill(0)
    this.sums.fill(0)
    this.count = 0
    this.sum = 0
  }

  holds(slot: number): boolean {
    return this.counts[slot] !== 0
  }

  value(): number | null {
    return this.count === 0 ? null : fromMicros(this.sum) / this.count
  }

  peek(first: number, last: number): number | null {
    let count = 0
    let m = 0
    for (let k = first; k <= last; k++) {
      const slot = k % this.counts.length
      count += this.counts[slot] ?? 0
      m += this.sums[slot] ?? 0
    }
    return count === 0 ? null : fromMicros(m) / count
  }

  merge(other: WindowAggregate): void {
    const o = sameKind(this, other)
    for (let i = 0; i < this.counts.length; i++) {
      this.counts[i] = (this.counts[i] ?? 0) + (o.counts[i] ?? 0)
      this.sums[i] = (this.sums[i] ?? 0) + (o.sums[i] ?? 0)
    }
    this.count += o.count
    this.sum += o.sum
    this.hasNegative ||= o.hasNegative
  }

  snapshot(): AvgFields {
    return { tc: this.count, ts: this.sum, counts: slotArray(this.counts), sums: slotArray(this.sums), ext: null, distinct: null, neg: this.hasNegative }
  }

  static restore(s: StoredWindow, buckets: number): AvgWindow | null {
    const w = new AvgWindow(buckets)
    if (!copySlots(s.counts, w.counts, asNumber) || !copySlots(s.sums, w.sums, asNumber)) return null
    for (const c of w.counts) w.count += c
    for (const m of w.sums) w.sum += m
    w.hasNegative = s.neg === true
    return w
  }
}
