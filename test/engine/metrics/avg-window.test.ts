import { describe, expect, it } from 'vitest'
import { at, B, roundTrip, T0, win } from './window-kit.ts'

describe('avg window over the bucket ring', () => {
  it('is null with no numeric value, and averages numeric values only', () => {
    const m = win('avg')
    expect(m.value()).toBeNull()
    m.add(T0, '10')
    expect(m.value()).toBeNull()
    m.add(T0, 1)
    m.add(T0, 0) // zero is a value: it counts
    m.add(T0, 5)
    expect(m.value()).toBe(2)
  })

  it('averages negative values and is marked for them', () => {
    const m = win('avg')
    m.add(T0, -3)
    m.add(T0, 1)
    expect(m.value()).toBe(-1)
    expect(m.hasNegative).toBe(true)
  })

  it('drops a bucket at the window edge from both sum and count', () => {
    const m = win('avg')
    m.add(T0, 10)
    m.advance(T0 + B)
    m.add(T0 + B, 2)
    m.add(T0 + B, 4)
    expect(m.value()).toBeCloseTo(16 / 3, 12)
    expect(at(m, T0 + 4 * B)).toBe(3)
    expect(at(m, T0 + 5 * B)).toBeNull()
    expect(m.isEmpty()).toBe(true)
  })

  it('is null again after an idle gap longer than the window', () => {
    const m = win('avg')
    m.add(T0, 1)
    expect(at(m, T0 + 50 * B)).toBeNull()
  })

  it('peeks the average of the part of the window still in at a later time', () => {
    const m = win('avg')
    m.add(T0, 10)
    m.advance(T0 + 2 * B)
    m.add(T0 + 2 * B, 4)
    expect(m.peek(T0 + 4 * B)).toBe(4)
    expect(m.peek(T0 + 6 * B)).toBeNull()
    expect(m.value()).toBe(7)
  })

  it('restores from its snapshot', () => {
    const m = win('avg')
    m.add(T0, 1.5)
    m.advance(T0 + 3 * B)
    m.add(T0 + 3 * B, -0.5)
    const back = roundTrip(m, 'avg')
    expect(back.snapshot()).toEqual(m.snapshot())
    expect(back.snapshot()).toMatchObject({ agg: 'avg', tc: 2, ts: 1_000_000, counts: [1, 0, 0, 1], sums: [1_500_000, 0, 0, -500_000], neg: true })
    expect(back.value()).toBe(0.5)
    expect(at(back, T0 + 4 * B)).toBe(-0.5)
  })
})
