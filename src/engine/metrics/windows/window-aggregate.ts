import type { AggregateFn } from '../../../rules/index.ts'
import type { StoredWindow, WindowFields } from './window-snapshot.ts'

/**
 * One aggregate's values over the shared bucket ring (../windowed.ts). The ring owns time: the
 * clock's bucket, which buckets leave, the oldest non-empty bucket, snapshots' common fields. The
 * aggregate owns what a bucket holds and how buckets combine. Buckets are absolute numbers,
 * floor(t / bucketMs); `slot` is bucket % buckets, worked out once by the ring.
 */
export interface WindowAggregate {
  readonly agg: AggregateFn
  /** A negative value was summed: sliding out can then raise the value (monotonic.ts). */
  readonly hasNegative: boolean
  /** Adds a matching event's value to a bucket; false when this aggregate does not take the value (nothing stored). */
  add(slot: number, bucket: number, value: unknown): boolean
  /** The bucket in `slot` leaves the window: the slot is emptied for the bucket n later. */
  evict(slot: number): void
  /** Every bucket leaves at once (an idle gap of a window or more). */
  clear(): void
  /** Whether the bucket in `slot` holds something: how the ring finds its oldest non-empty bucket. */
  holds(slot: number): boolean
  /** Values kept outside the slots (distinct's latest bucket per value) at bucket `lastGone` or older leave. */
  expire(lastGone: number): void
  /** Earliest bucket of the values kept outside the slots, or Infinity. */
  firstKept(): number
  /** Whether nothing is kept outside the slots. */
  keepsNothing(): boolean
  /** The aggregate over the whole window, buckets first..last. */
  value(first: number, last: number): number | null
  /** The aggregate over buckets first..last, a later part of the window (a read ahead of the clock). */
  peek(first: number, last: number): number | null
  snapshot(): WindowFields
  /**
   * Adds another user's window of the same aggregate and shape, its ring at the same clock, as if
   * its events had been added here (identity merges, docs/identity.md).
   */
  merge(other: WindowAggregate): void
}

/** The other side of a merge as this aggregate's own type: a mismatch is a bug of the caller. */
export function sameKind<T extends WindowAggregate>(self: T, other: WindowAggregate): T {
  if (other.constructor !== self.constructor) throw new Error(`cannot merge a ${other.agg} window into a ${self.agg} window`)
  return other as T
}

/**
 * The part of WindowAggregate for aggregates that keep nothing outside their slots (all but
 * distinct): nothing to expire, nothing kept.
 */
export abstract class SlotsOnly {
  expire(): void {}

  firstKept(): number {
    return Infinity
  }

  keepsNothing(): boolean {
    return true
  }
}

/** What the registry holds per aggregate: how to make one empty and how to restore one. */
export interface WindowAggregateType {
  new (buckets: number): WindowAggregate
  /** From a checkpoint whose ring arrays have `buckets` slots; null when its fields are malformed. */
  restore(s: StoredWindow, buckets: number): WindowAggregate | null
}
