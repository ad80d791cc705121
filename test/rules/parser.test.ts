import { describe, expect, test } from 'vitest'
import { parseExpression, printExpr, type Expr } from '../../src/rules/index.ts'

/** Strips offsets so shapes can be compared; offsets are tested on their own. */
function shape(e: unknown): unknown {
  if (Array.isArray(e)) return e.map(shape)
  if (typeof e !== 'object' || e === null) return e
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(e)) if (k !== 'start' && k !== 'end') out[k] = shape(v)
  return out
}

const parse = (text: string, context: 'segment' | 'trigger' = 'segment'): unknown => shape(parseExpression(text, context))
const canon = (text: string, context: 'segment' | 'trigger' = 'segment'): string => printExpr(parseExpression(text, context))

describe('aggregates', () => {
  test('count with window', () => {
    expect(parse('count(spin, 2h) >= 200')).toEqual({
      kind: 'compare',
      op: '>=',
      left: { kind: 'aggregate', fn: 'count', event: 'spin', field: null, filter: null, window: { kind: 'duration', ms: 7_200_000 } },
      right: { kind: 'number', value: 200 },
    })
  })

  test('sum over a field, lifetime', () => {
    expect(parse('sum(purchase.amount) > 0')).toMatchObject({
      left: { kind: 'aggregate', fn: 'sum', event: 'purchase', field: ['amount'], window: null },
    })
  })

  test.each(['sum', 'min', 'max', 'avg', 'distinct'])('%s takes a field', (fn) => {
    expect(parse(`${fn}(purchase.item, 1d) > 1`)).toMatchObject({
      left: { kind: 'aggregate', fn, event: 'purchase', field: ['item'], window: { ms: 86_400_000 } },
    })
  })

  test('nested field path: first name is the event', () => {
    expect(parse('max(purchase.meta.price) > 1')).toMatchObject({ left: { event: 'purchase', field: ['meta', 'price'] } })
  })

  test('quoted event names', () => {
    expect(parse('count("page view", 1h) > 3')).toMatchObject({ left: { event: 'page view' } })
    expect(parse("sum('page.view'.duration) > 3")).toMatchObject({ left: { event: 'page.view', field: ['duration'] } })
  })

  test('keywords are allowed as field names after a dot', () => {
    expect(parse('sum(x.in) > 1')).toMatchObject({ left: { field: ['in'] } })
  })

  test('function names are case-insensitive', () => {
    expect(parse('COUNT(spin) > 1')).toMatchObject({ left: { fn: 'count', event: 'spin' } })
  })

  test('filter with every comparison, in, not in, and/or/not, parentheses, dotted fields', () => {
    const text =
      'count(purchase where (item = "sword" or item == \'axe\') and amount > 5 and amount >= 5 and amount < 9 and amount <= 9 ' +
      'and status != "insufficient_funds" and country in ["TR", "DE"] and meta.tier not in [1, 2] and not is_gift, 1d) >= 2'
    expect(canon(text)).toBe(
      'count(purchase where (item = "sword" or item = "axe") and amount > 5 and amount >= 5 and amount < 9 and amount <= 9 ' +
        'and status != "insufficient_funds" and country in ["TR", "DE"] and meta.tier not in [1, 2] and not is_gift, 1d) >= 2',
    )
    expect(JSON.stringify(parse(text))).toContain('{"kind":"field","path":["meta","tier"]}')
  })

  test('in a filter, bare names are event fields even when they look like traits', () => {
    expect(parse('count(purchase where country = "TR") > 0')).toMatchObject({
      left: { filter: { left: { kind: 'field', path: ['country'] } } },
    })
  })
})

describe('traits, since and literals', () => {
  test('bare identifier is a trait', () => {
    expect(parse('country = "TR"')).toEqual({
      kind: 'compare',
      op: '=',
      left: { kind: 'trait', name: 'country' },
      right: { kind: 'string', value: 'TR' },
    })
  })

  test('boolean trait stands alone as a condition', () => {
    expect(parse('is_new')).toEqual({ kind: 'trait', name: 'is_new' })
    expect(parse('not is_new')).toEqual({ kind: 'not', operand: { kind: 'trait', name: 'is_new' } })
  })

  test('since() compared with a duration', () => {
    expect(parse('since(last_seen) > 7d')).toEqual({
      kind: 'compare',
      op: '>',
      left: { kind: 'since', trait: 'last_seen' },
      right: { kind: 'duration', ms: 604_800_000 },
    })
  })

  test('literals', () => {
    expect(parse('total_purchases > -4.5')).toMatchObject({ right: { kind: 'number', value: -4.5 } })
    expect(parse('is_new = TRUE')).toMatchObject({ right: { kind: 'boolean', value: true } })
    expect(parse('is_new = false')).toMatchObject({ right: { kind: 'boolean', value: false } })
    expect(parse("language = 'tr_TR'")).toMatchObject({ right: { kind: 'string', value: 'tr_TR' } })
  })

  test('in with a mixed list, trailing comma, empty list', () => {
    expect(parse('country in ["TR", 1, true, 2h,]')).toMatchObject({
      kind: 'in',
      negated: false,
      values: [{ value: 'TR' }, { value: 1 }, { value: true }, { ms: 7_200_000 }],
    })
    expect(parse('country not in []')).toMatchObject({ kind: 'in', negated: true, values: [] })
  })

  test('comparing two aggregates', () => {
    expect(canon('sum(x.a, 1h) > sum(x.b, 1h)')).toBe('sum(x.a, 1h) > sum(x.b, 1h)')
  })
})

describe('precedence: not > and > or', () => {
  test('and binds tighter than or', () => {
    expect(parse('is_new or is_new and is_new')).toMatchObject({ kind: 'or', right: { kind: 'and' } })
    expect(parse('is_new and is_new or is_new')).toMatchObject({ kind: 'or', left: { kind: 'and' } })
  })

  test('not binds tighter than and, comparison tighter than not', () => {
    expect(parse('not is_new and is_new')).toMatchObject({ kind: 'and', left: { kind: 'not' } })
    expect(parse('not country = "TR"')).toMatchObject({ kind: 'not', operand: { kind: 'compare' } })
  })

  test('and/or are left-associative', () => {
    expect(parse('is_new or country = "a" or country = "b"')).toMatchObject({ kind: 'or', left: { kind: 'or' } })
  })

  test('parentheses override', () => {
    expect(parse('(is_new or is_new) and is_new')).toMatchObject({ kind: 'and', left: { kind: 'or' } })
    expect(canon('not (is_new or is_new)')).toBe('not (is_new or is_new)')
  })

  test('keywords in any case', () => {
    expect(canon('is_new AND Not is_new Or is_new')).toBe('is_new and not is_new or is_new')
  })
})

describe('trigger context', () => {
  test('unknown names are properties of the triggering event, known traits stay traits', () => {
    expect(parse('cart_amount > 50 and country = "TR" and cart.total >= 1', 'trigger')).toMatchObject({
      left: {
        left: { left: { kind: 'field', path: ['cart_amount'] } },
        right: { left: { kind: 'trait', name: 'country' } },
      },
      right: { left: { kind: 'field', path: ['cart', 'total'] } },
    })
  })

  test('aggregates are allowed in a trigger', () => {
    expect(parse('count(add_to_cart, 1h) >= 3', 'trigger')).toMatchObject({ left: { kind: 'aggregate' } })
  })
})

describe('offsets', () => {
  test('every node spans its source text', () => {
    const text = 'count(spin, 2h) >= 200 and  not is_new'
    const e = parseExpression(text) as Extract<Expr, { kind: 'and' }>
    const slice = (n: { start: number; end: number }): string => text.slice(n.start, n.end)
    expect(slice(e)).toBe(text)
    const cmp = e.left as Extract<Expr, { kind: 'compare' }>
    expect(slice(cmp.left)).toBe('count(spin, 2h)')
    expect(slice(cmp.right)).toBe('200')
    const agg = cmp.left as Extract<Expr, { kind: 'aggregate' }>
    expect(agg.window && slice(agg.window)).toBe('2h')
    expect(slice(e.right)).toBe('not is_new')
  })

  test('parentheses leave no node: the inner span is kept', () => {
    const e = parseExpression('(is_new)')
    expect([e.start, e.end]).toEqual([1, 7])
  })
})

describe('canonical printing', () => {
  test.each([
    ['count(spin,120m)>=200', 'count(spin, 2h) >= 200'],
    ['COUNT ( "spin" , 2h ) >= 200', 'count(spin, 2h) >= 200'],
    ['count("page view") > 0', 'count("page view") > 0'],
    ["country == 'TR'", 'country = "TR"'],
    ['count(x where a = "q\\"uote") > 0', 'count(x where a = "q\\"uote") > 0'],
    ['(is_new)', 'is_new'],
    ['is_new or (is_new and is_new)', 'is_new or is_new and is_new'],
    ['(is_new or is_new) and is_new', '(is_new or is_new) and is_new'],
    ['not not is_new', 'not not is_new'],
  ])('%s → %s', (text, printed) => {
    expect(canon(text)).toBe(printed)
  })

  test('printed text parses back to the same tree', () => {
    const text = 'not (country = "TR" or country in ["DE"]) and count(p where a.b in [1, "x", true, 2h] and not (c != 3 or d < 4), 90m) > -1.5'
    const once = canon(text)
    expect(canon(once)).toBe(once)
    expect(parse(once)).toEqual(parse(text))
  })
})
