import { describe, expect, it } from 'vitest'
import { WindowedMetric } from '../../../src/engine/metrics/windowed.ts'
import { WINDOW_AGGREGATES } from '../../../src/engine/metrics/windows/registry.ts'
import { AGGREGATE_FNS } from '../../../src/rules/index.ts'
import { SHAPE, T0 } from './window-kit.ts'

describe('window aggregate registry', () => {
  it('has one type for every aggregate of the rule language, answering to its name', () => {
    expect(Object.keys(WINDOW_AGGREGATES).sort()).toEqual([...AGGREGATE_FNS].sort())
    for (const fn of AGGREGATE_FNS) {
      expect(new WINDOW_AGGREGATES[fn](SHAPE.buckets).agg).toBe(fn)
      const m = WindowedMetric.empty(fn, SHAPE, T0)
      expect(m.agg).toBe(fn)
      expect(m.snapshot()).toMatchObject({ kind: 'w', v: 2, agg: fn, clock: T0 / SHAPE.bucketMs, oldest: null })
    }
  })

  it('gives every window the empty value the rules expect: 0 for count/sum/distinct, null for avg/min/max', () => {
    const empty = Object.fromEntries(AGGREGATE_FNS.map((fn) => [fn, WindowedMetric.empty(fn, SHAPE, T0).value()]))
    expect(empty).toEqual({ count: 0, sum: 0, distinct: 0, avg: null, min: null, max: null })
  })
})
