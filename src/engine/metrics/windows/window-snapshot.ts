import type { Scalar } from '../metric-state.ts'

/**
 * A window's checkpoint fields. Every aggregate writes all of them, in this order, as the single
 * class before it did: msgpack keeps key order, so the same state gives the same bytes, and
 * checkpoints written before the split restore unchanged. Each aggregate narrows the fields it
 * uses (CountFields, SumFields, …) and writes null or 0 in the others.
 */
// A type, not an interface: snapshots must fit MetricSnapshot's index signature.
export type WindowFields = {
  /** Running count (count, avg). */
  tc: number
  /** Running sum in whole millionths (sum, avg). */
  ts: number
  /** Events per slot. */
  counts: number[] | null
  /** Whole millionths per slot. */
  sums: number[] | null
  /** Smallest or largest value per slot; null for an empty slot. */
  ext: Array<number | null> | null
  /** Each value's latest bucket. */
  distinct: Array<[Scalar, number]> | null
  neg: boolean
}

/** Snapshot version 2: rings of exactly n slots, sums in millionths. Version 1 is read by first-version.ts. */
export const WINDOW_SNAPSHOT_VERSION = 2

export type WindowSnapshot<F extends WindowFields = WindowFields> = {
  kind: 'w'
  v: typeof WINDOW_SNAPSHOT_VERSION
  agg: string
  clock: number
  oldest: number | null
} & F

/** A window snapshot as read back: fields are checked before use, not trusted. */
export type StoredWindow = Readonly<Record<string, unknown>>

/**
 * Copies a snapshot's slot array into `into`. A missing array (null) leaves `into` empty, as it did
 * before; false when the array is not `into.length` values that `read` accepts.
 */
export function copySlots(x: unknown, into: Uint32Array | Float64Array, read: (v: unknown) => number | undefined): boolean {
  if (x === null || x === undefined) return true
  if (!Array.isArray(x) || x.length !== into.length) return false
  for (let i = 0; i < x.length; i++) {
    const v = read(x[i])
    if (v === undefined) return false
    into[i] = v
  }
  return true
}

export function asNumber(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined
}

/** A min/max slot: null is an empty slot (NaN in the ring). */
export function asExtreme(v: unknown): number | undefined {
  return v === null ? NaN : asNumber(v)
}

/**
 * Typed-array slots as the snapshot's plain array. A plain loop, not Array.from: the iterator
 * protocol made this a tenth of a worker's checkpoint cost (every window of every dirty user, every
 * second). The same numbers, so the same msgpack bytes.
 */
export function slotArray(a: Uint32Array | Float64Array): number[] {
  // Sized up front (every index is then set, so no holes remain): 5× faster than growing by push.
  const out = new Array<number>(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i]!
  return out
}
