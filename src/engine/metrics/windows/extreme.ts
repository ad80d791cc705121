import { numeric } from '../metric-state.ts'
import { sameKind, SlotsOnly, type WindowAggregate } from './window-aggregate.ts'
import { asExtreme, copySlots, type StoredWindow, type WindowFields } from './window-snapshot.ts'
import { doubleSlots } from './slots.ts'

export type ExtremeFields = WindowFields & {
  counts: null
  sums: null
  ext: Array<number | null>
  distinct: null
}

/**
 * min/max: the best value per bucket (NaN for none). A best value cannot be taken back out of a
 * running total, so reading scans the window's buckets.
 */
export abstract class ExtremeWindow extends SlotsOnly implements WindowAggregate {
  abstract readonly agg: 'min' | 'max'
  protected readonly best: Float64Array

  constructor(buckets: number) {
    super()
    this.best = doubleSlots(buckets).fill(NaN)
  }

  /** Whether `a` replaces `b` as the bucket's value. */
  protected abstract better(a: number, b: number): boolean

  get hasNegative(): boolean {
    return false
  }

  add(slot: number, _bucket: number, value: unknown): boolean {
    const n = numeric(value)
    if (n === null) return false
    const cur = this.best[slot] ?? NaN
    if (Number.isNaN(cur) || this.better(n, cur)) this.best[slot] = n
    return true
  }

  evict(slot: number): void {
    this.best[slot] = NaN
  }

  clear(): void {
    this.best.fill(NaN)
  }

  holds(slot: number): boolean {
    return !Number.isNaN(this.best[slot] ?? NaN)
  }

  value(first: number, last: number): number | null {
    return this.peek(first, last)
  }

  peek(first: number, last: number): number | null {
    let best: number | null = null
    for (let k = first; k <= last; k++) {
      const v = this.best[k % this.best.length] ?? NaN
      if (Number.isNaN(v)) continue
      if (best === null || this.better(v, best)) best = v
    }
    return best
  }

  merge(other: WindowAggregate): void {
    const o = sameKind<ExtremeWindow>(this, other)
    for (let i = 0; i < this.best.length; i++) {
      const v = o.best[i] ?? NaN
      const cur = this.best[i] ?? NaN
      if (!Number.isNaN(v) && (Number.isNaN(cur) || this.better(v, cur))) this.best[i] = v
    }
  }

  snapshot(): ExtremeFields {
    return { tc: 0, ts: 0, counts: null, sums: null, ext: Array.from(this.best, (v) => (Number.isNaN(v) ? null : v)), distinct: null, neg: false }
  }

  /** Fills a new window from a checkpoint; false when its slots are malformed. */
  protected restoreSlots(s: StoredWindow): boolean {
    return copySlots(s.ext, this.best, asExtreme)
  }
}
