import { sameKind, SlotsOnly, type WindowAggregate } from './window-aggregate.ts'
import { asNumber, copySlots, slotArray, type StoredWindow, type WindowFields } from './window-snapshot.ts'
import { countSlots } from './slots.ts'

export type CountFields = WindowFields & {
  counts: number[]
  sums: null
  ext: null
  distinct: null
}

/** count(e, w): events per bucket and a running total, so reading the window is O(1). */
export class CountWindow extends SlotsOnly implements WindowAggregate {
  private readonly counts: Uint32Array
  private total = 0

  constructor(buckets: number) {
    super()
    this.counts = countSlots(buckets)
  }

  // On the prototype, not per object: a window per user and aggregate adds up.
  get agg(): 'count' {
    return 'count'
  }

  get hasNegative(): boolean {
    return false
  }

  add(slot: number): boolean {
    this.counts[slot] = (this.counts[slot] ?? 0) + 1
    this.total++
    return true
  }

  evict(slot: number): void {
    this.total -= this.counts[slot] ?? 0
    this.counts[slot] = 0
  }

  clear(): void {
    this.counts.fill(0)
    this.total = 0
  }

  holds(slot: number): boolean {
    return this.counts[slot] !== 0
  }

  value(): number {
    return this.total
  }

  peek(first: number, last: number): number {
    let n = 0
    for (let k = first; k <= last; k++) n += this.counts[k % this.counts.length] ?? 0
    return n
  }

  merge(other: WindowAggregate): void {
    const o = sameKind(this, other)
    for (let i = 0; i < this.counts.length; i++) this.counts[i] = (this.counts[i] ?? 0) + (o.counts[i] ?? 0)
    this.total += o.total
  }

  snapshot(): CountFields {
    return { tc: this.total, ts: 0, counts: slotArray(this.counts), sums: null, ext: null, distinct: null, neg: false }
  }

  static restore(s: StoredWindow, buckets: number): CountWindow | null {
    const w = new CountWindow(buckets)
    if (!copySlots(s.counts, w.counts, asNumber)) return null
    for (const c of w.counts) w.total += c
    return w
  }
}
