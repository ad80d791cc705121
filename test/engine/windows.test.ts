import { describe, expect, it } from 'vitest'
import { changes, engine, ev, HOUR, MIN, T0 } from './helpers.ts'

const SPINNER = `
segments:
  spinner:
    when: count(spin, 1h) >= 3
`

describe('sliding windows on event time', () => {
  it('counts an event until its bucket slides out, then untags with no event of that user', () => {
    const e = engine(SPINNER)
    for (const m of [0, 10, 20]) e.process(ev('spin', 'a', T0 + m * MIN))
    expect(changes(e)).toEqual([['a', 'spinner', 'entered', 20]])
    // Another user's event moves the watermark just short of the first bucket leaving (bucket = 30 s).
    e.process(ev('spin', 'b', T0 + HOUR - 1))
    expect(changes(e)).toEqual([])
    // Due at exactly 60 min: more events of that millisecond may come, so it fires once the
    // watermark is past it.
    e.process(ev('spin', 'b', T0 + HOUR))
    expect(changes(e)).toEqual([])
    e.process(ev('spin', 'c', T0 + HOUR + 1))
    expect(changes(e)).toEqual([['a', 'spinner', 'exited', 60]])
  })

  it('places the window boundary at bucket granularity: (bucket(T) − B, bucket(T)]', () => {
    const e = engine(SPINNER)
    // 1h window → 30 s buckets. An event late in a bucket leaves when that bucket leaves.
    e.process(ev('spin', 'a', T0 + 29_999))
    e.process(ev('spin', 'a', T0 + 40 * MIN))
    e.process(ev('spin', 'a', T0 + 50 * MIN))
    expect(changes(e)).toEqual([['a', 'spinner', 'entered', 50]])
    e.advanceTo(T0 + HOUR - 1, true)
    expect(changes(e)).toEqual([])
    e.advanceTo(T0 + HOUR, true)
    expect(changes(e)).toEqual([['a', 'spinner', 'exited', 60]])
  })

  it('counts out-of-order events inside the window, and counts too-late ones as late without using them', () => {
    const e = engine(SPINNER)
    e.process(ev('spin', 'b', T0 + 2 * HOUR))
    e.process(ev('spin', 'a', T0 + 2 * HOUR - 10 * MIN)) // late, in window
    e.process(ev('spin', 'a', T0 + 2 * HOUR - 20 * MIN)) // late, in window
    e.process(ev('spin', 'a', T0 + HOUR - MIN)) // late, beyond the window
    expect(changes(e)).toEqual([])
    expect(e.stats).toMatchObject({ late: 3, lateDropped: 1, processed: 4 })
    e.process(ev('spin', 'a', T0 + 2 * HOUR - 5 * MIN))
    expect(changes(e)).toEqual([['a', 'spinner', 'entered', 120]])
    const u = e.getUser('default', 'a')!
    expect(u.eventCount).toBe(4)
    expect(u.firstSeen).toBe(T0 + HOUR - MIN)
  })

  it('holds an event ahead of the watermark until the watermark reaches it (allowed lateness)', () => {
    const e = engine(SPINNER, { allowedLatenessMs: 5 * MIN })
    for (const m of [0, 1, 2]) e.process(ev('spin', 'a', T0 + m * MIN))
    // Watermark is T0 − 3 min: none of the three counts yet.
    expect(changes(e)).toEqual([])
    e.process(ev('spin', 'b', T0 + 7 * MIN))
    // Watermark T0 + 2 min: all three are in; the timer fires when the last bucket enters.
    expect(changes(e)).toEqual([['a', 'spinner', 'entered', 2]])
  })

  it('re-enters users whose rule turns true as activity slides out (non-monotonic rule)', () => {
    const e = engine(`
segments:
  cooling_off:
    when: count(spin) >= 1 and count(spin, 1h) < 2
`)
    e.process(ev('spin', 'a', T0))
    expect(changes(e)).toEqual([['a', 'cooling_off', 'entered', 0]])
    e.process(ev('spin', 'a', T0 + MIN))
    expect(changes(e)).toEqual([['a', 'cooling_off', 'exited', 1]])
    e.advanceTo(T0 + 3 * HOUR)
    expect(changes(e)).toEqual([['a', 'cooling_off', 'entered', 60]])
  })

  it('computes sum, min, max, avg and distinct over the window', () => {
    const e = engine(`
segments:
  s:
    when: sum(buy.price, 1h) > 10 and min(buy.price, 1h) >= 1 and max(buy.price, 1h) <= 9 and avg(buy.price, 1h) > 3 and distinct(buy.item, 1h) >= 2
`)
    e.process(ev('buy', 'a', T0, { price: 2, item: 'x' }))
    e.process(ev('buy', 'a', T0 + MIN, { price: 9, item: 'x' }))
    expect(changes(e)).toEqual([])
    e.process(ev('buy', 'a', T0 + 2 * MIN, { price: '100', item: 'y' })) // a string price is not a number
    expect(changes(e)).toEqual([['a', 's', 'entered', 2]])
    e.advanceTo(T0 + HOUR, true)
    // price 2 and item x@0 slide out: sum 9, min 9, distinct {x, y} still 2 (x seen at 1 min)
    expect(changes(e)).toEqual([['a', 's', 'exited', 60]])
  })
})
