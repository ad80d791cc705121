import type { Expr } from './ast.ts'
import { Cursor, isPunct, isWord, type ExprContext } from './cursor.ts'
import { errorAt, quote, type ExprSource } from './errors.ts'
import type { Token } from './lexer.ts'
import { literalOf, parseCall, parseDottedTail, parseList } from './parse-terms.ts'
import { assertKnownTrait, BUILTIN_TRAITS, PREDICTED_TRAITS, type TraitCatalog } from './traits.ts'

export type { ExprContext } from './cursor.ts'

/** Deep enough for any rule a person writes; shallow enough to fail before the JS stack does. */
const MAX_DEPTH = 100

/**
 * Parses one `when` expression. Precedence, loosest first: or, and, not, comparison. A bare string
 * is parsed as a standalone expression: error positions are then within that string.
 */
export function parseExpression(source: ExprSource | string, context: ExprContext = 'segment', traits: TraitCatalog = BUILTIN_TRAITS): Expr {
  const src = typeof source === 'string' ? { text: source } : source
  const cur = new Cursor(src, context, traits)
  const expr = orExpr(cur)
  const t = cur.peek()
  if (t.kind !== 'eof') throw cur.expected(t, '"and", "or" or end of expression')
  return expr
}

/** Parses one value, not a condition: a computed trait's `compute: sum(purchase.amount)`. */
export function parseValue(source: ExprSource | string, traits: TraitCatalog = BUILTIN_TRAITS): Expr {
  const src = typeof source === 'string' ? { text: source } : source
  const cur = new Cursor(src, 'segment', traits)
  const value = operand(cur, 'a value')
  const t = cur.peek()
  if (t.kind !== 'eof') throw cur.expected(t, 'end of expression')
  return value
}

function orExpr(cur: Cursor): Expr {
  let left = andExpr(cur)
  while (isWord(cur.peek(), 'or')) {
    cur.next()
    const right = andExpr(cur)
    left = { kind: 'or', left, right, start: left.start, end: right.end }
  }
  return left
}

function andExpr(cur: Cursor): Expr {
  let left = notExpr(cur)
  while (isWord(cur.peek(), 'and')) {
    cur.next()
    const right = notExpr(cur)
    left = { kind: 'and', left, right, start: left.start, end: right.end }
  }
  return left
}

function notExpr(cur: Cursor): Expr {
  const t = cur.peek()
  if (!isWord(t, 'not')) return comparison(cur)
  cur.next()
  const operand = nested(cur, t, () => notExpr(cur))
  return { kind: 'not', operand, start: t.start, end: operand.end }
}

function comparison(cur: Cursor): Expr {
  const left = operand(cur, 'a condition')
  const t = cur.peek()
  let result: Expr
  if (t.kind === 'op') {
    rejectCondition(cur, left, t)
    cur.next()
    const right = operand(cur, 'a value')
    rejectCondition(cur, right, t)
    result = { kind: 'compare', op: t.op, left, right, start: left.start, end: right.end }
  } else if (isWord(t, 'in') || isWord(t, 'not')) {
    cur.next()
    const negated = t.word === 'not'
    if (negated) {
      const inTok = cur.peek()
      if (!isWord(inTok, 'in')) throw cur.expected(inTok, '"in"')
      cur.next()
    }
    const { values, end } = parseList(cur)
    result = { kind: 'in', operand: left, values, negated, start: left.start, end }
  } else {
    requireCondition(cur, left)
    return left
  }
  const after = cur.peek()
  if (after.kind === 'op') throw cur.fail(after, 'comparisons cannot be chained; combine them with "and"')
  return result
}

function operand(cur: Cursor, what: string): Expr {
  const t = cur.peek()
  const lit = literalOf(t)
  if (lit) {
    cur.next()
    return lit
  }
  if (isPunct(t, '(')) {
    cur.next()
    const inner = nested(cur, t, () => orExpr(cur))
    cur.expectPunct(')', '"and", "or" or ")"')
    return inner
  }
  if (isPunct(t, '[')) throw cur.fail(t, 'a list is only allowed after "in"')
  if (t.kind === 'ident') {
    cur.next()
    return isPunct(cur.peek(), '(') ? parseCall(cur, t, () => orExpr(cur)) : reference(cur, t)
  }
  throw cur.expected(t, what, t.kind === 'bad' ? t.hint : undefined)
}

/**
 * A name outside a call. A dotted name whose whole spelling is a known trait (`predicted.churn_7d`)
 * is that trait, in a trigger's `when` too, where other dotted names are the event's fields; inside
 * a filter every name is the aggregated event's property.
 */
function reference(cur: Cursor, first: Token): Expr {
  const path = [first.text, ...parseDottedTail(cur)]
  const span = { start: first.start, end: cur.lastEnd }
  const shown = path.join('.')
  const isTrait = !cur.inFilter && cur.traits.has(shown)
  if (cur.inFilter || (cur.context === 'trigger' && !isTrait)) return { kind: 'field', path, ...span }
  if (path.length > 1 && !isTrait) {
    const detail =
      first.text === 'predicted'
        ? `unknown trait ${quote(shown)}; the predicted traits are ${PREDICTED_TRAITS.join(', ')}`
        : `${quote(shown)} is not a trait; event fields can only be used inside an aggregate, e.g. sum(${shown})`
    throw errorAt(cur.src, first.start, detail, { expected: 'a trait or an aggregate', got: quote(shown) })
  }
  return { kind: 'trait', name: assertKnownTrait(shown, cur.src, first.start, cur.traits), ...span }
}

function nested<T>(cur: Cursor, at: Token, parse: () => T): T {
  if (++cur.depth > MAX_DEPTH) throw cur.fail(at, `expression nested more than ${MAX_DEPTH} levels deep`)
  const result = parse()
  cur.depth--
  return result
}

function isCompound(e: Expr): boolean {
  return e.kind === 'and' || e.kind === 'or' || e.kind === 'not' || e.kind === 'compare' || e.kind === 'in'
}

function rejectCondition(cur: Cursor, e: Expr, op: Token): void {
  if (!isCompound(e)) return
  throw errorAt(cur.src, e.start, `a condition cannot be an operand of ${quote(op.text)}; combine conditions with "and", "or" and "not"`, {
    expected: 'a value',
  })
}

/**
 * A bare operand where a condition belongs (`when: count(spin, 1h)`) would silently never match,
 * so it is rejected here rather than evaluated as false forever.
 */
function requireCondition(cur: Cursor, e: Expr): void {
  let what: string
  let example: string
  const shown = cur.src.text.slice(e.start, e.end)
  switch (e.kind) {
    case 'trait': {
      const type = cur.traits.typeOf(e.name)
      if (type === 'boolean') return
      what = `a ${type} trait`
      example = type === 'timestamp' ? `since(${e.name}) > 7d` : type === 'string' ? `${e.name} = "..."` : `${e.name} > 0`
      break
    }
    case 'string':
      what = 'a string'
      example = `country = ${shown}`
      break
    case 'aggregate':
    case 'since':
    case 'number':
    case 'duration':
      what = 'a number'
      example = `${shown} > 0`
      break
    default:
      return
  }
  throw errorAt(cur.src, e.start, `${quote(shown)} is ${what}, not a condition; compare it, as in ${example}`, {
    expected: 'a condition',
    got: quote(shown),
  })
}
