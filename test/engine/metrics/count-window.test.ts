import { describe, expect, it } from 'vitest'
import { WindowedMetric } from '../../../src/engine/metrics/windowed.ts'
import { at, B, roundTrip, SHAPE, T0, win } from './window-kit.ts'

describe('count window over the bucket ring', () => {
  it('has 4 buckets of 250 ms for a 1 s window at 4 buckets per window', () => {
    expect(SHAPE).toEqual({ bucketMs: 250, buckets: 4 })
  })

  it('counts events in the clock bucket and in earlier buckets of the window', () => {
    const m = win('count')
    m.add(T0, undefined)
    m.add(T0 + 10, undefined)
    expect(at(m, T0 + 2 * B)).toBe(2)
    m.add(T0 + 2 * B, undefined)
    // Out of order but inside the window: bucket 4001 of (4000, 4004].
    expect(m.add(T0 + B + 5, undefined)).toBe(true)
    expect(m.value()).toBe(4)
    expect(m.isEmpty()).toBe(false)
  })

  it('drops a bucket exactly when the clock reaches n buckets after it, and says when beforehand', () => {
    const m = win('count')
    m.add(T0 + 100, undefined)
    expect(m.nextChange()).toBe(T0 + 4 * B)
    expect(at(m, T0 + 4 * B - 1)).toBe(1)
    expect(at(m, T0 + 4 * B)).toBe(0)
    expect(m.nextChange()).toBe(Infinity)
    expect(m.isEmpty()).toBe(true)
  })

  it('evicts bucket by bucket as the clock advances, keeping the rest', () => {
    const m = win('count')
    m.add(T0, undefined) // bucket 4000
    m.advance(T0 + B)
    m.add(T0 + B, undefined) // 4001
    m.add(T0 + B + 1, undefined)
    m.advance(T0 + 3 * B)
    m.add(T0 + 3 * B, undefined) // 4003
    expect(m.value()).toBe(4)
    expect(at(m, T0 + 4 * B)).toBe(3) // 4000 left
    expect(m.nextChange()).toBe(T0 + 5 * B)
    expect(at(m, T0 + 5 * B + 200)).toBe(1) // 4001 left
    expect(at(m, T0 + 7 * B)).toBe(0) // 4003 left
  })

  it('refuses an event too old for the window and keeps counting the others', () => {
    const m = win('count', T0 + 4 * B) // window (4000, 4004]
    expect(m.add(T0 + B - 1, undefined)).toBe(false) // bucket 4000: just out
    expect(m.add(T0 + B, undefined)).toBe(true) // bucket 4001: just in
    expect(m.value()).toBe(1)
    expect(m.nextChange()).toBe(T0 + 5 * B)
  })

  it('empties after an idle gap longer than the window and reuses its slots cleanly', () => {
    const m = win('count')
    for (let i = 0; i < 4; i++) {
      m.advance(T0 + i * B)
      m.add(T0 + i * B, undefined)
    }
    expect(m.value()).toBe(4)
    expect(at(m, T0 + 37 * B + 3)).toBe(0)
    expect(m.isEmpty()).toBe(true)
    m.add(T0 + 37 * B + 3, undefined)
    expect(m.value()).toBe(1)
    // Nothing stale in the other slots: one bucket later there is still exactly one event.
    expect(at(m, T0 + 39 * B)).toBe(1)
    expect(at(m, T0 + 41 * B)).toBe(0)
  })

  it('after a gap shorter than the window keeps the buckets still inside it', () => {
    const m = win('count')
    m.add(T0, undefined) // 4000
    m.advance(T0 + 2 * B)
    m.add(T0 + 2 * B, undefined) // 4002
    expect(at(m, T0 + 5 * B)).toBe(1) // jump of 3 buckets: 4000 and 4001 left, 4002 stays
    expect(at(m, T0 + 6 * B)).toBe(0)
  })

  it('peeks ahead of the clock without moving it', () => {
    const m = win('count')
    m.add(T0, undefined)
    m.advance(T0 + 2 * B)
    m.add(T0 + 2 * B, undefined)
    expect(m.peek(T0 + 4 * B)).toBe(1)
    expect(m.peek(T0 + 6 * B)).toBe(0)
    expect(m.peek(T0 + B)).toBe(2) // at or before the clock: the current value
    expect(m.value()).toBe(2)
  })

  it('restores from its snapshot to the same state, which then slides the same way', () => {
    const m = win('count')
    m.add(T0, undefined)
    m.advance(T0 + 2 * B)
    m.add(T0 + 2 * B, undefined)
    m.add(T0 + 2 * B + 1, undefined)
    const back = roundTrip(m, 'count')
    expect(back.snapshot()).toEqual(m.snapshot())
    expect(back.snapshot()).toMatchObject({ kind: 'w', v: 2, agg: 'count', clock: 4002, oldest: 4000, tc: 3, ts: 0, counts: [1, 0, 2, 0], sums: null })
    expect(back.nextChange()).toBe(T0 + 4 * B)
    expect(at(back, T0 + 4 * B)).toBe(2)
    expect(at(back, T0 + 6 * B)).toBe(0)
  })

  it('starts empty (null) when the checkpoint does not fit: another window shape or aggregate, or damaged slots', () => {
    const s = win('count').snapshot()
    expect(WindowedMetric.restore(s, 'count', { bucketMs: 500, buckets: 2 })).toBeNull()
    expect(WindowedMetric.restore(s, 'sum', SHAPE)).toBeNull()
    expect(WindowedMetric.restore({ ...s, counts: [1, 'x', 0, 0] }, 'count', SHAPE)).toBeNull()
    expect(WindowedMetric.restore({ ...s, clock: 'soon' }, 'count', SHAPE)).toBeNull()
  })
})
