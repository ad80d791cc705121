import { describe, expect, it } from 'vitest'
import { WindowedMetric } from '../../../src/engine/metrics/windowed.ts'
import { at, B, roundTrip, SHAPE, T0, win } from './window-kit.ts'

describe('distinct window over the bucket ring', () => {
  it('counts distinct scalars: "1", 1 and true are three values; objects and null are none', () => {
    const m = win('distinct')
    for (const v of ['1', 1, true, 1, '1', null, undefined, { a: 1 }, [1]]) m.add(T0, v)
    expect(m.value()).toBe(3)
  })

  it('keeps a value seen again until its latest bucket leaves', () => {
    const m = win('distinct')
    m.add(T0, 'a')
    m.add(T0, 'b')
    m.advance(T0 + 2 * B)
    m.add(T0 + 2 * B, 'a')
    expect(at(m, T0 + 4 * B)).toBe(1) // b left, a stays (seen at 4002)
    expect(m.nextChange()).toBe(T0 + 6 * B)
    expect(at(m, T0 + 6 * B - 1)).toBe(1)
    expect(at(m, T0 + 6 * B)).toBe(0)
    expect(m.isEmpty()).toBe(true)
    expect(m.nextChange()).toBe(Infinity)
  })

  it('does not move a value back when an older event of it comes late', () => {
    const m = win('distinct', T0 + 3 * B)
    m.add(T0 + 3 * B, 'x')
    m.add(T0 + B, 'x') // late, in the window: x stays at 4003
    expect(at(m, T0 + 5 * B)).toBe(1)
    expect(m.add(T0, 'y')).toBe(false) // bucket 4000 is out of (4001, 4005]
    expect(m.value()).toBe(1)
  })

  it('is empty after an idle gap longer than the window', () => {
    const m = win('distinct')
    m.add(T0, 'a')
    m.add(T0, 'b')
    expect(at(m, T0 + 20 * B)).toBe(0)
    expect(m.isEmpty()).toBe(true)
  })

  it('peeks the values whose latest bucket is still in at a later time', () => {
    const m = win('distinct')
    m.add(T0, 'a')
    m.advance(T0 + 2 * B)
    m.add(T0 + 2 * B, 'b')
    expect(m.peek(T0 + 4 * B)).toBe(1)
    expect(m.peek(T0 + 6 * B)).toBe(0)
    expect(m.value()).toBe(2)
  })

  it('restores each value with its latest bucket', () => {
    const m = win('distinct')
    m.add(T0, 7)
    m.advance(T0 + B)
    m.add(T0 + B, 'seven')
    const back = roundTrip(m, 'distinct')
    // Values live outside the slots, so a restored ring has no oldest bucket (as before the split);
    // the next change still comes from the values themselves.
    expect(back.snapshot()).toEqual({ ...m.snapshot(), oldest: null })
    expect(back.nextChange()).toBe(m.nextChange())
    expect(back.snapshot()).toMatchObject({
      agg: 'distinct',
      distinct: [
        [7, 4000],
        ['seven', 4001],
      ],
      counts: null,
      sums: null,
      ext: null,
    })
    expect(at(back, T0 + 4 * B)).toBe(1)
    expect(at(back, T0 + 5 * B)).toBe(0)
    const s = m.snapshot()
    expect(WindowedMetric.restore({ ...s, distinct: [[{}, 4000]] }, 'distinct', SHAPE)).toBeNull()
  })
})
