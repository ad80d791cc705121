import { describe, expect, it } from 'vitest'
import { changes, engine, ev, HOUR, MIN, T0 } from './helpers.ts'

describe('tagging', () => {
  it('holds a tag for `keep` after the condition last held, and cancels the exit if it holds again', () => {
    const e = engine(`
segments:
  hot:
    when: count(spin, 10m) >= 2
    keep: 3m
`)
    e.process(ev('spin', 'a', T0))
    e.process(ev('spin', 'a', T0 + MIN))
    expect(changes(e)).toEqual([['a', 'hot', 'entered', 1]])
    // At 10 min the first spin slides out: false from then, exit due at 13 min.
    e.advanceTo(T0 + 12 * MIN)
    expect(changes(e)).toEqual([])
    // Holds again before the exit is due: two spins at 12 and 12.5 min.
    e.process(ev('spin', 'a', T0 + 12 * MIN))
    e.process(ev('spin', 'a', T0 + 12.5 * MIN))
    e.advanceTo(T0 + 20 * MIN)
    expect(changes(e)).toEqual([])
    // The spin at 12 min slides out at 22 min: the tag goes 3 minutes later.
    e.advanceTo(T0 + HOUR)
    expect(changes(e)).toEqual([['a', 'hot', 'exited', 25]])
  })

  it('tags lapsed buyers when since(last_seen) passes its threshold, with no event of theirs', () => {
    const e = engine(`
segments:
  lapsed_buyer:
    when: sum(purchase.amount) > 0 and since(last_seen) > 7d
`)
    e.process(ev('purchase', 'a', T0, { amount: 5 }))
    e.process(ev('page_view', 'b', T0 + 7 * 24 * HOUR))
    expect(changes(e)).toEqual([])
    e.process(ev('page_view', 'b', T0 + 7 * 24 * HOUR + 1))
    // The flip is due at 7d + 1 ms; a timer fires once the watermark is past its time.
    expect(changes(e)).toEqual([])
    e.process(ev('page_view', 'b', T0 + 7 * 24 * HOUR + 2))
    expect(changes(e)).toEqual([['a', 'lapsed_buyer', 'entered', 7 * 24 * 60 + 1 / MIN]])
    e.process(ev('page_view', 'a', T0 + 8 * 24 * HOUR))
    expect(changes(e)).toEqual([['a', 'lapsed_buyer', 'exited', 8 * 24 * 60]])
  })

  it('keeps traits: first/last seen, counts, total purchases, profile properties, is_new', () => {
    const e = engine(`
segments:
  newbie:
    when: is_new and country = "TR"
`)
    e.process(ev('page_view', 'a', T0 + MIN, { country: 'TR', language: 'tr_TR', user_agent: 'UA', referrer: 'r', host: 'h' }))
    e.process(ev('purchase', 'a', T0, { amount: 4.5 }))
    e.process(ev('in_app_purchase', 'a', T0 + 2 * MIN, { amount: 1 }))
    e.process(ev('purchase', 'a', T0 + 3 * MIN, { amount: 'x' }))
    const u = e.getUser('default', 'a')!
    expect(u.firstSeen).toBe(T0)
    expect(u.lastSeen).toBe(T0 + 3 * MIN)
    expect(u.eventCount).toBe(4)
    expect(u.totalPurchases).toBe(5.5)
    expect(u.profile).toEqual({ country: 'TR', language: 'tr_TR', user_agent: 'UA', referrer: 'r', host: 'h' })
    expect(changes(e)).toEqual([['a', 'newbie', 'entered', 1]])
    e.advanceTo(T0 + 25 * HOUR)
    expect(changes(e)).toEqual([['a', 'newbie', 'exited', 24 * 60]])
  })

  it("numbers each user's changes and reports the rule's values", () => {
    const e = engine(`
segments:
  big:
    when: sum(purchase.amount, 1h) > 10
`)
    e.process(ev('purchase', 'a', T0, { amount: 11 }))
    e.advanceTo(T0 + 2 * HOUR)
    e.process(ev('purchase', 'a', T0 + 2 * HOUR, { amount: 20 }))
    const out = e.drainOutputs().changes
    expect(out.map((c) => [c.change, c.version, c.values])).toEqual([
      ['entered', 1, { 'sum(purchase.amount, 1h)': 11 }],
      ['exited', 2, { 'sum(purchase.amount, 1h)': 0 }],
      ['entered', 3, { 'sum(purchase.amount, 1h)': 20 }],
    ])
  })
})

describe('triggers', () => {
  it('emits a notification on the chosen event when its condition holds', () => {
    const e = engine(`
segments: {}
triggers:
  cart_push:
    on: add_to_cart
    when: cart_amount > 50 and count(add_to_cart, 1h) <= 3
    emit: push
`)
    e.process(ev('add_to_cart', 'a', T0, { cart_amount: 20 }))
    e.process(ev('add_to_cart', 'a', T0 + 1, { cart_amount: 80, item: 'shoes' }))
    e.process(ev('page_view', 'a', T0 + 2, { cart_amount: 80 }))
    const { notifications } = e.drainOutputs()
    expect(notifications).toHaveLength(1)
    expect(notifications[0]).toMatchObject({
      trigger: 'cart_push',
      emit: 'push',
      user_id: 'a',
      event: 'add_to_cart',
      at: T0 + 1,
      properties: { cart_amount: 80, item: 'shoes' },
      values: { 'count(add_to_cart, 1h)': 2 },
    })
  })
})
