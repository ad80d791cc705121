import { describe, expect, it } from 'vitest'
import { at, B, roundTrip, T0, win } from './window-kit.ts'

describe('sum window over the bucket ring', () => {
  it('adds exactly in millionths, whatever the order', () => {
    const a = win('sum')
    for (const v of [3.33, 3.33, 3.34]) a.add(T0, v)
    const b = win('sum')
    for (const v of [3.34, 3.33, 3.33]) b.add(T0, v)
    expect(a.value()).toBe(10)
    expect(b.value()).toBe(10)
  })

  it('ignores values that are not finite numbers, and zero does not hold a bucket', () => {
    const m = win('sum')
    for (const v of ['7', null, undefined, true, NaN, Infinity, { n: 1 }]) expect(m.add(T0, v)).toBe(true)
    m.add(T0, 0)
    expect(m.value()).toBe(0)
    expect(m.isEmpty()).toBe(true)
    expect(m.nextChange()).toBe(Infinity)
  })

  it('slides a bucket out at the window edge, subtracting it from the running total', () => {
    const m = win('sum')
    m.add(T0, 2.5)
    m.advance(T0 + 2 * B)
    m.add(T0 + 2 * B, 1.25)
    expect(m.value()).toBe(3.75)
    expect(m.nextChange()).toBe(T0 + 4 * B)
    expect(at(m, T0 + 4 * B - 1)).toBe(3.75)
    expect(at(m, T0 + 4 * B)).toBe(1.25)
    expect(at(m, T0 + 6 * B)).toBe(0)
  })

  it('with negative values: sums them, is marked, and rises when the negative bucket slides out', () => {
    const m = win('sum')
    m.add(T0, -4)
    expect(m.hasNegative).toBe(true)
    m.advance(T0 + B)
    m.add(T0 + B, 10)
    expect(m.value()).toBe(6)
    expect(at(m, T0 + 4 * B)).toBe(10) // the −4 left: the sum went up with no event
    expect(at(m, T0 + 5 * B)).toBe(0)
    // Once marked, it stays marked: it may hold negatives again (monotonic.ts).
    expect(m.hasNegative).toBe(true)
    expect(win('sum').hasNegative).toBe(false)
  })

  it('treats a bucket whose values cancel out as empty once it is looked at again', () => {
    const m = win('sum')
    m.add(T0, 5)
    m.add(T0, -5)
    m.advance(T0 + B)
    m.add(T0 + B, 1)
    expect(m.value()).toBe(1)
    // The oldest bucket is only looked at again when it leaves: one timer that changes nothing…
    expect(m.nextChange()).toBe(T0 + 4 * B)
    expect(at(m, T0 + 4 * B)).toBe(1)
    // …then the cancelled-out bucket is no longer the oldest.
    expect(m.nextChange()).toBe(T0 + 5 * B)
  })

  it('sums a part of the window when peeking ahead', () => {
    const m = win('sum')
    m.add(T0, -1.5)
    m.advance(T0 + 3 * B)
    m.add(T0 + 3 * B, 2)
    expect(m.peek(T0 + 4 * B)).toBe(2)
    expect(m.peek(T0 + 7 * B)).toBe(0)
    expect(m.value()).toBe(0.5)
  })

  it('empties after an idle gap longer than the window', () => {
    const m = win('sum')
    m.add(T0, 7)
    expect(at(m, T0 + 100 * B)).toBe(0)
    m.add(T0 + 100 * B, -1)
    expect(m.value()).toBe(-1)
  })

  it('restores total, slots and the negative mark from its snapshot', () => {
    const m = win('sum')
    m.add(T0, 0.1)
    m.advance(T0 + B)
    m.add(T0 + B, -0.3)
    const back = roundTrip(m, 'sum')
    expect(back.snapshot()).toEqual(m.snapshot())
    expect(back.snapshot()).toMatchObject({ agg: 'sum', tc: 0, ts: -200_000, counts: null, sums: [100_000, -300_000, 0, 0], neg: true })
    expect(back.value()).toBe(-0.2)
    expect(back.hasNegative).toBe(true)
    expect(at(back, T0 + 4 * B)).toBe(-0.3)
  })
})
