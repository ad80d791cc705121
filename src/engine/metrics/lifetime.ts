import type { AggregateFn } from '../../rules/index.ts'
import { fromMicros, toMicros } from './exact-sum.ts'
import { numeric, scalar, type MetricSnapshot, type MetricState, type Scalar } from './metric-state.ts'

/** Distinct values kept per user for a lifetime distinct(); beyond it the count stops growing. */
export const MAX_LIFETIME_DISTINCT = 10_000

/** An aggregate over all of a user's events: a few numbers, never slides. */
export class LifetimeMetric implements MetricState {
  private count = 0
  /** Whole millionths (exact-sum.ts): order-independent and exact. */
  private sum = 0
  private extreme: number | null = null
  private values: Set<Scalar> | null

  constructor(readonly agg: AggregateFn) {
    this.values = agg === 'distinct' ? new Set() : null
  }

  /** A lifetime aggregate never slides, so a negative value cannot make it rise later. */
  get hasNegative(): boolean {
    return false
  }

  advance(): void {}

  add(_ts: number, value: unknown): boolean {
    if (this.agg === 'count') {
      this.count++
      return true
    }
    if (this.agg === 'distinct') {
      const s = scalar(value)
      if (s !== null && this.values!.size < MAX_LIFETIME_DISTINCT) this.values!.add(s)
      return true
    }
    const n = numeric(value)
    if (n === null) return true
    this.count++
    this.sum += toMicros(n)
    if (this.extreme === null || (this.agg === 'min' ? n < this.extreme : n > this.extreme)) this.extreme = n
    return true
  }

  value(): number | null {
    switch (this.agg) {
      case 'count':
        return this.count
      case 'sum':
        return fromMicros(this.sum)
      case 'avg':
        return this.count === 0 ? null : fromMicros(this.sum) / this.count
      case 'min':
      case 'max':
        return this.extreme
      case 'distinct':
        return this.values!.size
    }
  }

  peek(): number | null {
    return this.value()
  }

  nextChange(): number {
    return Infinity
  }

  isEmpty(): boolean {
    return this.count === 0 && (this.values === null || this.values.size === 0)
  }

  merge(other: MetricState): void {
    if (!(other instanceof LifetimeMetric) || other.agg !== this.agg) throw new Error(`cannot merge a ${other.agg} state into a lifetime ${this.agg}`)
    this.count += other.count
    this.sum += other.sum
    if (other.extreme !== null && (this.extreme === null || (this.agg === 'min' ? other.extreme < this.extreme : other.extreme > this.extreme))) this.extreme = other.extreme
    if (this.values !== null && other.values !== null) {
      for (const v of other.values) {
        if (this.values.size >= MAX_LIFETIME_DISTINCT) break
        this.values.add(v)
      }
    }
  }

  snapshot(): MetricSnapshot {
    return { kind: 'l', v: 2, agg: this.agg, count: this.count, sum: this.sum, extreme: this.extreme, values: this.values ? [...this.values] : null }
  }

  static restore(s: MetricSnapshot, agg: AggregateFn): LifetimeMetric | null {
    if (s.agg !== agg) return null
    const m = new LifetimeMetric(agg)
    m.count = s.count as number
    // Before version 2 the sum was a float total.
    m.sum = s.v === 2 ? (s.sum as number) : toMicros(s.sum as number)
    m.extreme = s.extreme as number | null
    if (m.values && Array.isArray(s.values)) m.values = new Set(s.values as Scalar[])
    return m
  }
}
