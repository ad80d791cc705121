import type { AggregateFn } from '../../rules/index.ts'

/** A distinct-able value: what `distinct()` counts. */
export type Scalar = string | number | boolean

/**
 * One user's state for one aggregate. Windowed and lifetime states share this shape so the
 * evaluator does not care which it holds. Times are event times in epoch ms.
 */
export interface MetricState {
  readonly agg: AggregateFn
  /** Moves the state's clock to T (non-decreasing). Must be called before add() and value(). */
  advance(T: number): void
  /**
   * Adds one matching event. `value` is the aggregated field (undefined for count). Returns false
   * when the event is too late for the window and was not counted.
   */
  add(ts: number, value: unknown): boolean
  /** The aggregate at the current clock: 0 for count/sum/distinct of nothing, null for min/max/avg of nothing. */
  value(): number | null
  /** The aggregate at time T (at or after the clock) without moving the clock: for reads from APIs. */
  peek(T: number): number | null
  /** Earliest time after the clock at which value() can change with no new event; Infinity if never. */
  nextChange(): number
  /** True when nothing is held (the state can be dropped). */
  isEmpty(): boolean
  /** A negative value was summed into a window: sliding out can raise it (PartitionEngine.schedule). */
  readonly hasNegative: boolean
  snapshot(): MetricSnapshot
  /**
   * Adds another user's state of the same aggregate (and window), as if its events had been added
   * here; both are moved to the later of their clocks first (identity merges, docs/identity.md).
   */
  merge(other: MetricState): void
}

/**
 * A metric's checkpoint as stored: `kind` tells windowed ('w', windowed.ts and windows/) from
 * lifetime ('l'); each restore checks the other fields before using them.
 */
export interface MetricSnapshot {
  kind: 'w' | 'l'
  [field: string]: unknown
}

/** An aggregate over nothing: 0 for count, sum and distinct, null (no value) for min, max and avg. */
export function emptyValue(agg: AggregateFn): number | null {
  return agg === 'min' || agg === 'max' || agg === 'avg' ? null : 0
}

/** Values that feed sum/min/max/avg: finite JSON numbers only, never coerced strings. */
export function numeric(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}

export function scalar(v: unknown): Scalar | null {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : null
}
