import { scalar, type Scalar } from '../metric-state.ts'
import { sameKind, type WindowAggregate } from './window-aggregate.ts'
import type { StoredWindow, WindowFields } from './window-snapshot.ts'

export type DistinctFields = WindowFields & {
  counts: null
  sums: null
  ext: null
  distinct: Array<[Scalar, number]>
}

/**
 * distinct(e.f, w): each value's latest bucket, outside the ring's slots (a value seen again moves
 * forward rather than counting twice). Values leave when their latest bucket does.
 */
export class DistinctWindow implements WindowAggregate {
  private readonly latest = new Map<Scalar, number>()

  // The ring is sized for every aggregate; distinct keeps no slots.
  constructor(_buckets: number) {}

  get agg(): 'distinct' {
    return 'distinct'
  }

  get hasNegative(): boolean {
    return false
  }

  add(_slot: number, bucket: number, value: unknown): boolean {
    const s = scalar(value)
    if (s === null) return false
    const prev = this.latest.get(s)
    if (prev === undefined || prev < bucket) this.latest.set(s, bucket)
    return true
  }

  evict(): void {}

  clear(): void {}

  /** Values are not in slots: the ring's oldest bucket only tells when to look again (firstKept). */
  holds(): boolean {
    return false
  }

  expire(lastGone: number): void {
    for (const [v, b] of this.latest) if (b <= lastGone) this.latest.delete(v)
  }

  firstKept(): number {
    let first = Infinity
    for (const b of this.latest.values()) if (b < first) first = b
    return first
  }

  keepsNothing(): boolean {
    return this.latest.size === 0
  }

  value(): number {
    return this.latest.size
  }

  peek(first: number): number {
    let n = 0
    for (const b of this.latest.values()) if (b >= first) n++
    return n
  }

  merge(other: WindowAggregate): void {
    for (const [v, b] of sameKind(this, other).latest) {
      const prev = this.latest.get(v)
      if (prev === undefined || prev < b) this.latest.set(v, b)
    }
  }

  snapshot(): DistinctFields {
    return { tc: 0, ts: 0, counts: null, sums: null, ext: null, distinct: [...this.latest], neg: false }
  }

  static restore(s: StoredWindow, buckets: number): DistinctWindow | null {
    const w = new DistinctWindow(buckets)
    if (s.distinct === null || s.distinct === undefined) return w
    if (!Array.isArray(s.distinct)) return null
    for (const entry of s.distinct) {
      if (!Array.isArray(entry) || entry.length !== 2) return null
      const v = scalar(entry[0])
      const b: unknown = entry[1]
      if (v === null || typeof b !== 'number') return null
      w.latest.set(v, b)
    }
    return w
  }
}
