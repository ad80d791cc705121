import { describe, expect, test } from 'vitest'
import { compileRules, compileRulesYaml, parseExpression, type CompiledRules, type Expr, type RulesDefinition, type TraitName } from '../../src/rules/index.ts'
import { fakeEnv, ruleError, type FakeUser } from './helpers.ts'

/** Compiles one segment and returns a tester over fake users. */
function segment(when: string): { rules: CompiledRules; holds: (user: FakeUser) => boolean } {
  const rules = compileRulesYaml(`segments:\n  s:\n    when: '${when.replaceAll("'", "''")}'\n`)
  const seg = rules.segments[0]
  if (!seg) throw new Error('no segment')
  return { rules, holds: (user) => seg.test(fakeEnv(rules, user)) }
}

function trigger(when: string): { rules: CompiledRules; fires: (user: FakeUser) => boolean } {
  const rules = compileRulesYaml(`triggers:\n  t:\n    on: add_to_cart\n    when: '${when.replaceAll("'", "''")}'\n`)
  const test = rules.triggers[0]?.test
  if (!test) throw new Error('no trigger test')
  return { rules, fires: (user) => test(fakeEnv(rules, user)) }
}

function filterOf(expr: string): (props: Record<string, unknown>) => boolean {
  const { rules } = segment(`count(e where ${expr}) > 0`)
  const f = rules.metrics[0]?.filter
  if (!f) throw new Error('no filter')
  return f
}

describe('metric specs', () => {
  test('one spec per distinct aggregate, shared across segments and triggers, by canonical text', () => {
    const rules = compileRulesYaml(`
segments:
  a:
    when: count(spin, 2h) >= 200 and sum(in_app_purchase.amount, 2h) > 10
  b:
    when: COUNT(spin, 120m) > 5 or count("spin", 7200s) < 1
  c:
    when: count(purchase where item = "sword", 1d) >= 2 and count(purchase where item == 'sword', 24h) < 9
triggers:
  t:
    on: add_to_cart
    when: cart_amount > 50 and sum(in_app_purchase.amount, 2h) > 0 and distinct(purchase.meta.sku) > 2
`)
    expect(rules.metrics.map((m) => m.key)).toEqual(['count(spin, 2h)', 'sum(in_app_purchase.amount, 2h)', 'count(purchase where item = "sword", 1d)', 'distinct(purchase.meta.sku)'])
    expect(rules.metrics.map((m) => m.index)).toEqual([0, 1, 2, 3])
    expect(rules.metrics[1]).toMatchObject({ agg: 'sum', event: 'in_app_purchase', field: ['amount'], filter: null, filterText: null, windowMs: 7_200_000 })
    expect(rules.metrics[2]).toMatchObject({ agg: 'count', event: 'purchase', field: null, filterText: 'item = "sword"', windowMs: 86_400_000 })
    expect(rules.metrics[3]).toMatchObject({ agg: 'distinct', field: ['meta', 'sku'], windowMs: null })
    expect(rules.segments.map((s) => s.metrics)).toEqual([[0, 1], [0], [2]])
    expect(rules.triggers[0]).toMatchObject({ metrics: [1, 3], traits: [] })
  })

  test('segment metadata: traits, longest window, usesNow, keep', () => {
    const rules = compileRulesYaml(`
segments:
  a:
    when: count(spin, 2h) > 1 and count(spin, 5m) > 1 and country = "TR" and since(last_seen) > 1d and since(first_seen) < 30d
    keep: 3m
  b:
    when: sum(purchase.amount) > 0
`)
    expect(rules.segments[0]).toMatchObject({ traits: ['country', 'first_seen', 'last_seen'], maxWindowMs: 7_200_000, usesNow: true, keepMs: 180_000 })
    expect(rules.segments[1]).toMatchObject({ traits: [], maxWindowMs: null, usesNow: false, keepMs: 0 })
  })
})

describe('when closures', () => {
  test('comparisons against metric values', () => {
    const { holds } = segment('count(spin, 2h) >= 200 and sum(in_app_purchase.amount, 2h) > 10')
    expect(holds({ metrics: { 'count(spin, 2h)': 200, 'sum(in_app_purchase.amount, 2h)': 10.01 } })).toBe(true)
    expect(holds({ metrics: { 'count(spin, 2h)': 199, 'sum(in_app_purchase.amount, 2h)': 50 } })).toBe(false)
    expect(holds({ metrics: { 'count(spin, 2h)': 500, 'sum(in_app_purchase.amount, 2h)': 10 } })).toBe(false)
  })

  test.each([
    ['=', 5, true],
    ['=', 6, false],
    ['!=', 6, true],
    ['!=', 5, false],
    ['<', 4, true],
    ['<', 5, false],
    ['<=', 5, true],
    ['<=', 6, false],
    ['>', 6, true],
    ['>', 5, false],
    ['>=', 5, true],
    ['>=', 4, false],
  ])('total_purchases %s 5 with %d → %s', (op, value, expected) => {
    expect(segment(`total_purchases ${op} 5`).holds({ traits: { total_purchases: value } })).toBe(expected)
  })

  test('comparing two metrics, and a constant on the left', () => {
    const { holds } = segment('sum(x.won, 1d) > sum(x.lost, 1d) and 3 < count(x, 1d)')
    expect(holds({ metrics: { 'sum(x.won, 1d)': 5, 'sum(x.lost, 1d)': 2, 'count(x, 1d)': 4 } })).toBe(true)
    expect(holds({ metrics: { 'sum(x.won, 1d)': 5, 'sum(x.lost, 1d)': 2, 'count(x, 1d)': 3 } })).toBe(false)
  })

  test('and / or / not with precedence', () => {
    const { holds } = segment('country = "TR" or country = "DE" and not is_new')
    expect(holds({ traits: { country: 'TR', is_new: true } })).toBe(true)
    expect(holds({ traits: { country: 'DE', is_new: true } })).toBe(false)
    expect(holds({ traits: { country: 'DE', is_new: false } })).toBe(true)
  })

  test('since(trait) is now minus the timestamp, compared with a duration', () => {
    const day = 86_400_000
    const { holds } = segment('since(last_seen) > 7d')
    expect(holds({ now: 10 * day, traits: { last_seen: 2 * day } })).toBe(true)
    expect(holds({ now: 9 * day, traits: { last_seen: 2 * day } })).toBe(false)
  })

  test('strings: equality, in, lexicographic order; mixed types never throw', () => {
    expect(segment('country in ["TR", "DE"]').holds({ traits: { country: 'DE' } })).toBe(true)
    expect(segment('country not in ["TR", "DE"]').holds({ traits: { country: 'US' } })).toBe(true)
    expect(segment('language > "m"').holds({ traits: { language: 'tr_TR' } })).toBe(true)
    expect(segment('language > 5').holds({ traits: { language: 'tr_TR' } })).toBe(false)
    expect(segment('language < 5').holds({ traits: { language: 'tr_TR' } })).toBe(false)
    expect(segment('total_purchases = "5"').holds({ traits: { total_purchases: 5 } })).toBe(false)
    expect(segment('total_purchases != "5"').holds({ traits: { total_purchases: 5 } })).toBe(true)
    expect(segment('is_new > false').holds({ traits: { is_new: true } })).toBe(false)
  })

  test('a boolean trait on its own holds only when it is exactly true', () => {
    const { holds } = segment('is_new')
    expect(holds({ traits: { is_new: true } })).toBe(true)
    expect(holds({ traits: { is_new: false } })).toBe(false)
    expect(holds({ traits: {} })).toBe(false)
  })
})

describe('null semantics', () => {
  test('every comparison with a null side is false, != included', () => {
    for (const op of ['=', '!=', '<', '<=', '>', '>=']) {
      expect(segment(`avg(purchase.amount) ${op} 5`).holds({ metrics: {} })).toBe(false)
    }
    expect(segment('country in ["TR"]').holds({})).toBe(false)
    expect(segment('country not in ["TR"]').holds({})).toBe(false)
  })

  test('not of a false comparison is true: plain boolean logic after the comparison', () => {
    expect(segment('not avg(purchase.amount) > 5').holds({})).toBe(true)
    expect(segment('not country in ["TR"]').holds({})).toBe(true)
    expect(segment('not country = "TR" and not country != "TR"').holds({})).toBe(true)
  })

  test('since() of a missing or non-numeric timestamp is null', () => {
    expect(segment('since(last_seen) > 0s').holds({ now: 5 })).toBe(false)
    expect(segment('not since(last_seen) < 1d').holds({ now: 5 })).toBe(true)
    expect(segment('since(last_seen) > 0s').holds({ now: 5, traits: { last_seen: 'yesterday' } })).toBe(false)
  })

  test('an engine returning undefined by mistake still reads as null', () => {
    const rules = compileRulesYaml('segments:\n  s:\n    when: country != "TR"\n')
    const env = { now: 0, metric: () => null, trait: () => undefined as unknown as null }
    expect(rules.segments[0]?.test(env)).toBe(false)
  })
})

describe('filter closures', () => {
  test('comparisons over properties', () => {
    const f = filterOf('item = "sword" and amount > 5')
    expect(f({ item: 'sword', amount: 6 })).toBe(true)
    expect(f({ item: 'sword', amount: 5 })).toBe(false)
    expect(f({ item: 'axe', amount: 6 })).toBe(false)
  })

  test('missing properties are null: the comparison is false', () => {
    expect(filterOf('status != "insufficient_funds"')({})).toBe(false)
    expect(filterOf('status != "insufficient_funds"')({ status: 'ok' })).toBe(true)
    expect(filterOf('not status = "insufficient_funds"')({})).toBe(true)
  })

  test('nested paths, with non-objects along the way reading as null', () => {
    const f = filterOf('meta.price >= 4.99')
    expect(f({ meta: { price: 4.99 } })).toBe(true)
    expect(f({ meta: { price: '4.99' } })).toBe(false)
    expect(f({ meta: 4.99 })).toBe(false)
    expect(f({ meta: null })).toBe(false)
    expect(f({ meta: [4.99] })).toBe(false)
    expect(f({})).toBe(false)
  })

  test('objects, arrays and prototype names never leak in as values', () => {
    expect(filterOf('tags = "a"')({ tags: ['a'] })).toBe(false)
    expect(filterOf('constructor != "x"')({})).toBe(false)
    expect(filterOf('toString.name = "toString"')({})).toBe(false)
  })

  test('in, not in, or, parentheses, booleans, dotted fields', () => {
    const f = filterOf('(country in ["TR", "DE"] or vip = true) and meta.tier not in [1, 2]')
    expect(f({ country: 'TR', meta: { tier: 3 } })).toBe(true)
    expect(f({ country: 'US', vip: true, meta: { tier: 3 } })).toBe(true)
    expect(f({ country: 'TR', meta: { tier: 1 } })).toBe(false)
    expect(f({ country: 'TR' })).toBe(false)
  })

  test('a bare property in a filter holds only when it is exactly true', () => {
    const f = filterOf('is_gift')
    expect(f({ is_gift: true })).toBe(true)
    expect(f({ is_gift: 'true' })).toBe(false)
    expect(f({ is_gift: 1 })).toBe(false)
  })
})

describe('trigger closures', () => {
  test('bare names read the triggering event, traits and aggregates are allowed too', () => {
    const { fires } = trigger('cart_amount > 50 and country = "TR" and count(add_to_cart, 1h) >= 2')
    const metrics = { 'count(add_to_cart, 1h)': 2 }
    expect(fires({ props: { cart_amount: 60 }, traits: { country: 'TR' }, metrics })).toBe(true)
    expect(fires({ props: { cart_amount: 40 }, traits: { country: 'TR' }, metrics })).toBe(false)
    expect(fires({ props: { cart_amount: 60, country: 'TR' }, traits: { country: 'DE' }, metrics })).toBe(false)
  })

  test('nested props, and no props at all', () => {
    const { fires } = trigger('cart.total > 50')
    expect(fires({ props: { cart: { total: 51 } } })).toBe(true)
    expect(fires({})).toBe(false)
  })

  test('without when, test is null', () => {
    const rules = compileRulesYaml('triggers:\n  t:\n    on: add_to_cart\n')
    expect(rules.triggers[0]).toMatchObject({ name: 't', on: 'add_to_cart', text: null, test: null, emit: 'notification', metrics: [] })
  })
})

describe('hand-built definitions are checked too', () => {
  const def = (when: Expr): RulesDefinition => ({ segments: [{ name: 's', when, text: 'x', keepMs: 0 }], triggers: [] })
  const span = { start: 0, end: 1 }

  // A definition built outside the parser (its types bypassed) is still checked at run time.
  test('unknown trait', () => {
    const e = ruleError(() => compileRules(def({ kind: 'trait', name: 'nope' as TraitName, ...span })))
    expect(e.message).toMatch(/^segments\.s\.when: line 1, column 1: unknown trait "nope"/)
    expect(e.segment).toBe('s')
  })

  test('field on count, missing field on sum, empty window, property in a segment', () => {
    const agg = { kind: 'aggregate', event: 'e', filter: null, window: null, ...span } as const
    expect(ruleError(() => compileRules(def({ ...agg, fn: 'count', field: ['x'] }))).detail).toBe('count() counts events and takes no field')
    expect(ruleError(() => compileRules(def({ ...agg, fn: 'sum', field: null }))).detail).toBe('sum() needs an event field')
    const zero = { ...agg, fn: 'count', field: null, window: { kind: 'duration', ms: 0, ...span } } as const
    expect(ruleError(() => compileRules(def(zero))).detail).toBe('a window must be longer than zero')
    expect(ruleError(() => compileRules(def({ kind: 'field', path: ['x'], ...span }))).detail).toBe("event properties can only be read in a filter or in a trigger's when")
  })

  test('traits inside a filter', () => {
    const when = parseExpression('count(e where x = 1) > 0')
    if (when.kind !== 'compare' || when.left.kind !== 'aggregate') throw new Error('shape')
    const bad = { ...when, left: { ...when.left, filter: { kind: 'trait', name: 'country', start: 14, end: 21 } as const } }
    const e = ruleError(() => compileRules(def(bad)))
    expect([e.column, e.detail]).toEqual([15, 'a filter can only test properties of the event; traits, aggregates and since() are not allowed'])
  })
})
