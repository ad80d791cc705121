import { fromMicros, toMicros } from '../exact-sum.ts'
import { numeric } from '../metric-state.ts'
import { sameKind, SlotsOnly, type WindowAggregate } from './window-aggregate.ts'
import { asNumber, copySlots, slotArray, type StoredWindow, type WindowFields } from './window-snapshot.ts'
import { doubleSlots } from './slots.ts'

export type SumFields = WindowFields & {
  counts: null
  sums: number[]
  ext: null
  distinct: null
}

/**
 * sum(e.f, w): whole millionths per bucket and a running total (exact-sum.ts), so reading is O(1)
 * and the total never drifts as buckets leave.
 */
export class SumWindow extends SlotsOnly implements WindowAggregate {
  private readonly sums: Float64Array
  /** Whole millionths. */
  private total = 0
  hasNegative = false

  constructor(buckets: number) {
    super()
    this.sums = doubleSlots(buckets)
  }

  get agg(): 'sum' {
    return 'sum'
  }

  add(slot: number, _bucket: number, value: unknown): boolean {
    const n = numeric(value)
    if (n === null) return false
    const m = toMicros(n)
    // Zero changes nothing: the bucket does not become the oldest non-empty one for it.
    if (m === 0) return false
    if (m < 0) this.hasNegative = true
    this.sums[slot] = (this.sums[slot] ?? 0) + m
    this.total += m
    return true
  }

  evict(slot: number): void {
    this.total -= this.sums[slot] ?? 0
    this.sums[slot] = 0
  }

  clear(): void {
    this.sums.fill(0)
    this.total = 0
  }

  /** A bucket whose values cancel out (5 and −5) counts as empty: its leaving changes nothing. */
  holds(slot: number): boolean {
    return this.sums[slot] !== 0
  }

  value(): number {
    return fromMicros(this.total)
  }

  peek(first: number, last: number): number {
    let m = 0
    for (let k = first; k <= last; k++) m += this.sums[k % this.sums.length] ?? 0
    return fromMicros(m)
  }

  merge(other: WindowAggregate): void {
    const o = sameKind(this, other)
    for (let i = 0; i < this.sums.length; i++) this.sums[i] = (this.sums[i] ?? 0) + (o.sums[i] ?? 0)
    this.total += o.total
    this.hasNegative ||= o.hasNegative
  }

  snapshot(): SumFields {
    return { tc: 0, ts: this.total, counts: null, sums: slotArray(this.sums), ext: null, distinct: null, neg: this.hasNegative }
  }

  static restore(s: StoredWindow, buckets: number): SumWindow | null {
    const w = new SumWindow(buckets)
    if (!copySlots(s.sums, w.sums, asNumber)) return null
    for (const m of w.sums) w.total += m
    w.hasNegative = s.neg === true
    return w
  }
}
