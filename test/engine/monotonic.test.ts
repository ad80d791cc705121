import { describe, expect, it } from 'vitest'
import { slideOnlyExits, timeCannotRaise } from '../../src/engine/monotonic.ts'
import { parseExpression } from '../../src/rules/index.ts'
import { changes, DAY, engine, ev, HOUR, MIN, T0 } from './helpers.ts'

const slideOnly = (rule: string) => slideOnlyExits(parseExpression(rule))

describe('slideOnlyExits: sliding can only take users out of the segment', () => {
  it('holds for growing comparisons of count, distinct and sum, either way round', () => {
    expect(slideOnly('count(spin, 2h) >= 200')).toBe(true)
    expect(slideOnly('distinct(spin.game, 1h) > 3')).toBe(true)
    expect(slideOnly('sum(buy.amount, 1h) > 10')).toBe(true)
    expect(slideOnly('5 < count(spin, 1h)')).toBe(true)
    expect(slideOnly('5 <= count(spin, 1h) and country = "DE"')).toBe(true)
    expect(slideOnly('count(spin, 1h) > 1 or sum(buy.amount, 1d) >= 5')).toBe(true)
  })

  it('fails for shrinking comparisons, which sliding can make true', () => {
    expect(slideOnly('count(spin, 1h) < 2')).toBe(false)
    expect(slideOnly('count(spin, 1h) <= 2')).toBe(false)
    expect(slideOnly('3 > count(spin, 1h)')).toBe(false)
    expect(slideOnly('count(spin, 1h) = 2')).toBe(false)
    expect(slideOnly('count(spin) >= 1 and count(spin, 1h) < 2')).toBe(false)
  })

  it('counts nots: an odd number turns a growing comparison into a shrinking one', () => {
    expect(slideOnly('not count(spin, 1h) > 2')).toBe(false)
    expect(slideOnly('not not count(spin, 1h) > 2')).toBe(true)
  })

  it('fails for min, max and avg, which can move either way as values leave', () => {
    expect(slideOnly('min(buy.amount, 1h) > 1')).toBe(false)
    expect(slideOnly('max(buy.amount, 1h) > 1')).toBe(false)
    expect(slideOnly('avg(buy.amount, 1h) > 1')).toBe(false)
  })

  it('fails when a window is compared with another window', () => {
    expect(slideOnly('count(spin, 1h) > count(win, 1h)')).toBe(false)
    expect(slideOnly('sum(buy.amount, 1h) >= count(spin, 1h)')).toBe(false)
  })

  it('holds for rules with no window at all', () => {
    expect(slideOnly('count(spin) < 3 and country = "DE"')).toBe(true)
  })
})

describe('negative sums: a slide-only sum rule still times users whose sum can rise', () => {
  const RULE = `
segments:
  buyer:
    when: sum(buy.amount, 1h) > 10
`
  it('enters a user when a negative amount (a refund) slides out and the sum rises over the threshold', () => {
    const e = engine(RULE)
    e.process(ev('buy', 'a', T0, { amount: -5 }))
    e.process(ev('buy', 'a', T0 + 10 * MIN, { amount: 12 }))
    expect(changes(e)).toEqual([]) // 7
    e.advanceTo(T0 + HOUR + MIN, true)
    // The 1h window has 30 s buckets: the refund's bucket leaves at exactly T0 + 1h.
    expect(changes(e)).toEqual([['a', 'buyer', 'entered', 60]])
    e.advanceTo(T0 + 2 * HOUR, true)
    expect(changes(e)).toEqual([['a', 'buyer', 'exited', 70]])
  })

  it('with only positive amounts never enters on a timer (no timer is needed for non-members)', () => {
    const e = engine(RULE)
    e.process(ev('buy', 'a', T0, { amount: 5 }))
    e.process(ev('buy', 'a', T0 + 10 * MIN, { amount: 4 }))
    expect(e.getUser('default', 'a')?.timerAt).toBe(Infinity)
    e.advanceTo(T0 + 2 * HOUR, true)
    expect(changes(e)).toEqual([])
  })

  it('marks the user and the window as holding negatives', () => {
    const e = engine(RULE)
    e.process(ev('buy', 'a', T0, { amount: -0.01 }))
    const u = e.getUser('default', 'a')
    expect(u?.negative).toBe(true)
    expect(u?.metrics[0]?.hasNegative).toBe(true)
    expect(u?.timerAt).toBe(T0 + HOUR)
  })
})

describe('entry gates: a part of the rule that time cannot make true keeps non-members off the timers', () => {
  const cannotRise = (rule: string) => timeCannotRaise(parseExpression(rule))

  it('holds for all-time aggregates and growing windowed comparisons; not for since(), traits, or comparisons sliding can make true', () => {
    expect(cannotRise('sum(purchase.amount) > 0')).toBe(true)
    expect(cannotRise('count(add_to_cart, 1h) >= 1')).toBe(true)
    expect(cannotRise('count(purchase) = 0')).toBe(true)
    expect(cannotRise('since(last_seen) > 7d')).toBe(false)
    expect(cannotRise('is_new')).toBe(false)
    expect(cannotRise('count(purchase, 1h) = 0')).toBe(false)
    expect(cannotRise('not count(spin, 1h) >= 3')).toBe(false)
  })

  const LAPSED = `
segments:
  lapsed_buyer:
    when: sum(purchase.amount) > 0 and since(last_seen) > 7d
`
  it('gives a user who never bought no timer, where since(last_seen) alone would set one at every event', () => {
    const e = engine(LAPSED)
    e.process(ev('spin', 'a', T0))
    e.process(ev('spin', 'a', T0 + MIN))
    expect(e.getUser('default', 'a')?.timerAt).toBe(Infinity)
    e.advanceTo(T0 + 30 * DAY, true)
    expect(changes(e)).toEqual([])
  })

  it('still enters a buyer at last_seen + 7d, by the timer the open gate lets through', () => {
    const e = engine(LAPSED)
    e.process(ev('spin', 'a', T0))
    e.process(ev('purchase', 'a', T0 + MIN, { amount: 5 }))
    expect(e.getUser('default', 'a')?.timerAt).toBe(T0 + MIN + 7 * DAY)
    e.advanceTo(T0 + 30 * DAY, true)
    expect(changes(e).map(([u, s, c]) => [u, s, c])).toEqual([['a', 'lapsed_buyer', 'entered']])
  })
})
