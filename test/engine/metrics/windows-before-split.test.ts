import { readFileSync } from 'node:fs'
import { pack } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import type { MetricSnapshot } from '../../../src/engine/metrics/metric-state.ts'
import { WindowedMetric } from '../../../src/engine/metrics/windowed.ts'
import type { AggregateFn } from '../../../src/rules/index.ts'

/**
 * What the single WindowedMetric class did before the split into one type per aggregate
 * (commit e565fa5), recorded by running it on a fixed pseudo-random workload per aggregate: 160
 * steps of clock moves (within a bucket, across buckets, idle gaps longer than the window), events
 * in and beyond the window, values of every kind (negative, zero, decimals, strings, booleans,
 * null, missing), and snapshots with their restores. Also version-1 checkpoints (before the exact
 * windows) and what that code restored from them. The split must give the same values, the same
 * snapshots (same key order, so the same checkpoint bytes) and read the old checkpoints the same.
 */
interface Step {
  T: number
  ts: number
  value: unknown
  added: boolean
  value_: number | null
  peek300: number | null
  peek700: number | null
  next: number | null
  empty: boolean
  neg: boolean
  snapshot?: MetricSnapshot
  restored?: { value: number | null; peek300: number | null; next: number | null; empty: boolean; snapshot: MetricSnapshot }
}
interface Legacy {
  snapshot: MetricSnapshot
  value: number | null
  peek: number | null
  next: number | null
  empty: boolean
  restored: MetricSnapshot
}
interface Fixture {
  shape: { bucketMs: number; buckets: number }
  windows: Record<AggregateFn, Step[]>
  legacyShape: { bucketMs: number; buckets: number }
  legacy: Record<string, Legacy | null>
}

const fixture: Fixture = JSON.parse(readFileSync(new URL('./fixtures/windows-before-split.json', import.meta.url), 'utf8'))
const AGGS: AggregateFn[] = ['count', 'sum', 'avg', 'min', 'max', 'distinct']
/** JSON has no Infinity: the recording wrote null for "never". */
const finite = (x: number) => (Number.isFinite(x) ? x : null)

describe('windows behave as before the split into one type per aggregate', () => {
  for (const agg of AGGS) {
    it(`${agg}: same values, timers, snapshots and restores over 160 recorded steps`, () => {
      const steps = fixture.windows[agg]
      expect(steps.length).toBe(160)
      const m = WindowedMetric.empty(agg, fixture.shape, steps[0]!.T)
      let snapshots = 0
      for (const [i, s] of steps.entries()) {
        m.advance(s.T)
        const got = {
          added: m.add(s.ts, s.value === '<undefined>' ? undefined : s.value),
          value_: m.value(),
          peek300: m.peek(s.T + 300),
          peek700: m.peek(s.T + 700),
          next: finite(m.nextChange()),
          empty: m.isEmpty(),
          neg: m.hasNegative,
        }
        expect({ step: i, ...got }).toEqual({ step: i, added: s.added, value_: s.value_, peek300: s.peek300, peek700: s.peek700, next: s.next, empty: s.empty, neg: s.neg })
        if (s.snapshot && s.restored) {
          snapshots++
          const snap = m.snapshot()
          expect(snap).toEqual(s.snapshot)
          // Same keys in the same order: msgpack writes the same checkpoint bytes.
          expect(pack(snap).equals(pack(s.snapshot))).toBe(true)
          const back = WindowedMetric.restore(s.snapshot, agg, fixture.shape)
          expect(back).not.toBeNull()
          expect({ value: back?.value(), peek300: back?.peek(s.T + 300), next: finite(back?.nextChange() ?? NaN), empty: back?.isEmpty(), snapshot: back?.snapshot() }).toEqual(s.restored)
        }
      }
      expect(snapshots).toBe(10)
    })

    it(`${agg}: reads a version-1 checkpoint (before the exact windows) as the old code did`, () => {
      const old = fixture.legacy[agg]
      if (!old) throw new Error(`fixture has no version-1 case for ${agg}`)
      const m = WindowedMetric.restore(structuredClone(old.snapshot), agg, fixture.legacyShape)
      if (!m) throw new Error('version-1 checkpoint not restored')
      const T = (Number(old.snapshot.clock) + 1) * fixture.legacyShape.bucketMs - 1
      expect({ value: m.value(), peek: m.peek(T + 30_000), next: finite(m.nextChange()), empty: m.isEmpty(), restored: m.snapshot() }).toEqual({
        value: old.value,
        peek: old.peek,
        next: old.next,
        empty: old.empty,
        restored: old.restored,
      })
      // Other window shapes had other buckets then: they start empty, as before.
      expect(fixture.legacy[`${agg}:other-shape`]).toBeNull()
      expect(WindowedMetric.restore(structuredClone(old.snapshot), agg, { bucketMs: 80, buckets: 125 })).toBeNull()
    })
  }
})
