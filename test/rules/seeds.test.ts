import { describe, expect, test } from 'vitest'
import { compileRulesYaml } from '../../src/rules/index.ts'
import { fakeEnv } from './helpers.ts'

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR

/** The rules from seeds 000 (slots) and 004 (retail clickstream), as docs/segments.md shows them. */
const SEED_RULES = `
segments:
  # seed 000: 200 spins in the last 2 hours and more than $10 of in-app purchases
  high_roller:
    when: count(spin, 2h) >= 200 and sum(in_app_purchase.amount, 2h) > 10
    keep: 3m
  # seed 004: bought before, not seen for a week
  lapsed_buyer:
    when: sum(purchase.amount) > 0 and since(last_seen) > 7d
triggers:
  # seed 004: push notification on add_to_cart
  cart_push:
    on: add_to_cart
    when: cart_amount > 50
    emit: notification
`

describe('seed rules', () => {
  const rules = compileRulesYaml(SEED_RULES, 'seeds.yaml')
  const [highRoller, lapsedBuyer] = rules.segments
  const [cartPush] = rules.triggers

  test('compile to three shared metrics with stable keys', () => {
    expect(rules.metrics.map((m) => [m.key, m.agg, m.event, m.field, m.windowMs])).toEqual([
      ['count(spin, 2h)', 'count', 'spin', null, 2 * HOUR],
      ['sum(in_app_purchase.amount, 2h)', 'sum', 'in_app_purchase', ['amount'], 2 * HOUR],
      ['sum(purchase.amount)', 'sum', 'purchase', ['amount'], null],
    ])
    expect(highRoller).toMatchObject({ name: 'high_roller', keepMs: 3 * MIN, maxWindowMs: 2 * HOUR, metrics: [0, 1], traits: [], usesNow: false })
    expect(lapsedBuyer).toMatchObject({ name: 'lapsed_buyer', keepMs: 0, maxWindowMs: null, metrics: [2], traits: ['last_seen'], usesNow: true })
    expect(cartPush).toMatchObject({ name: 'cart_push', on: 'add_to_cart', text: 'cart_amount > 50', emit: 'notification' })
  })

  test('high_roller: both thresholds must hold, each strictly as written', () => {
    const holds = (spins: number, dollars: number): boolean => highRoller?.test(fakeEnv(rules, { metrics: { 'count(spin, 2h)': spins, 'sum(in_app_purchase.amount, 2h)': dollars } })) ?? false
    expect(holds(200, 10.5)).toBe(true)
    expect(holds(199, 100)).toBe(false)
    expect(holds(200, 10)).toBe(false)
    expect(holds(5000, 0)).toBe(false)
  })

  test('lapsed_buyer: a buyer idle for more than 7 days; never-seen users are not lapsed', () => {
    const now = 30 * DAY
    const holds = (spent: number, lastSeen: number | null): boolean => lapsedBuyer?.test(fakeEnv(rules, { now, metrics: { 'sum(purchase.amount)': spent }, traits: { last_seen: lastSeen } })) ?? false
    expect(holds(12.5, now - 8 * DAY)).toBe(true)
    expect(holds(12.5, now - 7 * DAY)).toBe(false)
    expect(holds(0, now - 8 * DAY)).toBe(false)
    expect(holds(12.5, null)).toBe(false)
  })

  test('cart_push: fires on carts over 50, not on missing or string amounts', () => {
    const fires = (props: Record<string, unknown>): boolean => cartPush?.test?.(fakeEnv(rules, { props })) ?? false
    expect(fires({ cart_amount: 64.9 })).toBe(true)
    expect(fires({ cart_amount: 50 })).toBe(false)
    expect(fires({ cart_amount: '64.9' })).toBe(false)
    expect(fires({})).toBe(false)
  })

  test('sword_fans from the brief: a filtered count', () => {
    const r = compileRulesYaml('segments:\n  sword_fans:\n    when: count(purchase where item = "sword", 1d) >= 2\n')
    const m = r.metrics[0]
    expect(m).toMatchObject({ key: 'count(purchase where item = "sword", 1d)', filterText: 'item = "sword"', windowMs: DAY })
    expect(m?.filter?.({ item: 'sword' })).toBe(true)
    expect(m?.filter?.({ item: 'shield' })).toBe(false)
  })
})
