import { describe, expect, it } from 'vitest'
import { at, B, roundTrip, T0, win } from './window-kit.ts'

describe('min and max windows over the bucket ring', () => {
  it('are null with no numeric value and ignore non-numbers', () => {
    for (const agg of ['min', 'max'] as const) {
      const m = win(agg)
      m.add(T0, '3')
      m.add(T0, null)
      expect(m.value()).toBeNull()
      expect(m.isEmpty()).toBe(true)
    }
  })

  it('take the smallest / largest value, negatives included, across buckets', () => {
    const lo = win('min')
    const hi = win('max')
    for (const [dt, v] of [
      [0, 3],
      [B, -2],
      [B, 7],
      [2 * B, 0],
    ] as const) {
      lo.advance(T0 + dt)
      hi.advance(T0 + dt)
      lo.add(T0 + dt, v)
      hi.add(T0 + dt, v)
    }
    expect(lo.value()).toBe(-2)
    expect(hi.value()).toBe(7)
    expect(lo.hasNegative).toBe(false) // only sums slide up: min/max rules are never slide-only
  })

  it('fall back to the next bucket best when the best one slides out', () => {
    const lo = win('min')
    lo.add(T0, 1) // bucket 4000
    lo.advance(T0 + 2 * B)
    lo.add(T0 + 2 * B, 5) // 4002
    expect(lo.nextChange()).toBe(T0 + 4 * B)
    expect(at(lo, T0 + 4 * B - 1)).toBe(1)
    expect(at(lo, T0 + 4 * B)).toBe(5)
    expect(lo.nextChange()).toBe(T0 + 6 * B)
    expect(at(lo, T0 + 6 * B)).toBeNull()

    const hi = win('max')
    hi.add(T0, 9)
    hi.advance(T0 + B)
    hi.add(T0 + B, -1)
    expect(at(hi, T0 + 4 * B)).toBe(-1)
  })

  it('are null after an idle gap longer than the window', () => {
    const m = win('max')
    m.add(T0, 4)
    expect(at(m, T0 + 9 * B)).toBeNull()
    m.add(T0 + 9 * B, -4)
    expect(m.value()).toBe(-4)
  })

  it('peek the best value of the later part of the window', () => {
    const m = win('max')
    m.add(T0, 9)
    m.advance(T0 + 2 * B)
    m.add(T0 + 2 * B, 3)
    expect(m.peek(T0 + 4 * B)).toBe(3)
    expect(m.peek(T0 + 7 * B)).toBeNull()
    expect(m.value()).toBe(9)
  })

  it('restore from their snapshots, empty buckets written as null', () => {
    const m = win('min')
    m.add(T0, 2)
    m.advance(T0 + 2 * B)
    m.add(T0 + 2 * B, -8)
    const back = roundTrip(m, 'min')
    expect(back.snapshot()).toEqual(m.snapshot())
    expect(back.snapshot()).toMatchObject({ agg: 'min', ext: [2, null, -8, null], counts: null, sums: null, neg: false })
    expect(back.value()).toBe(-8)
    expect(at(back, T0 + 4 * B)).toBe(-8)
    expect(roundTrip(win('max'), 'max').value()).toBeNull()
  })
})
