import { WindowedMetric } from '../../../src/engine/metrics/windowed.ts'
import type { AggregateFn } from '../../../src/rules/index.ts'
import { windowShape } from '../../../src/rules/window-shape.ts'

/** A 1 s window of 4 buckets of 250 ms: small enough to reason about bucket by bucket. */
export const SHAPE = windowShape(1000, 4)
export const B = 250
/** Start of bucket 4000. */
export const T0 = 1_000_000

export function win(agg: AggregateFn, T = T0): WindowedMetric {
  return WindowedMetric.empty(agg, SHAPE, T)
}

/** Moves the window's clock to T and reads it, as the engine does. */
export function at(m: WindowedMetric, T: number): number | null {
  m.advance(T)
  return m.value()
}

/** Snapshot → msgpack-safe copy → restore, as a checkpoint does. */
export function roundTrip(m: WindowedMetric, agg: AggregateFn): WindowedMetric {
  const back = WindowedMetric.restore(structuredClone(m.snapshot()), agg, SHAPE)
  if (back === null) throw new Error('snapshot did not restore')
  return back
}
