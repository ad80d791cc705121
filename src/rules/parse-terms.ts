import { AGGREGATE_FNS, type Aggregate, type AggregateFn, type DurationLiteral, type Expr, type Literal } from './ast.ts'
import { errorAt, quote } from './errors.ts'
import { isPunct, isWord, type Cursor } from './cursor.ts'
import type { Token } from './lexer.ts'
import { assertTimestampTrait, predictionEventProblem } from './traits.ts'

const FUNCTIONS = [...AGGREGATE_FNS, 'since'].join(', ')

/** A call `name(` with the name consumed and `(` next. `parseFilter` parses a full condition. */
export function parseCall(cur: Cursor, name: Token, parseFilter: () => Expr): Expr {
  const fn = name.text.toLowerCase()
  const known = fn === 'since' || (AGGREGATE_FNS as readonly string[]).includes(fn)
  if (!known) {
    throw cur.fail(name, `unknown function ${quote(name.text)}; expected one of ${FUNCTIONS}`, `one of ${FUNCTIONS}`)
  }
  if (cur.inFilter) {
    throw cur.fail(name, `${fn}() cannot be used inside a filter: a filter tests the properties of one event`)
  }
  cur.expectPunct('(')
  return fn === 'since' ? parseSince(cur, name) : parseAggregate(cur, fn as AggregateFn, name, parseFilter)
}

function parseSince(cur: Cursor, name: Token): Expr {
  const arg = cur.peek()
  if (arg.kind !== 'ident') throw cur.expected(arg, 'a trait name such as last_seen')
  cur.next()
  // A dotted trait name: since(predicted.scored_at).
  const dotted = [arg.text, ...parseDottedTail(cur)].join('.')
  const trait = assertTimestampTrait(dotted, cur.src, arg.start, cur.traits)
  const close = cur.expectPunct(')')
  return { kind: 'since', trait, start: name.start, end: close.end }
}

function parseAggregate(cur: Cursor, fn: AggregateFn, name: Token, parseFilter: () => Expr): Aggregate {
  const ev = cur.peek()
  if (ev.kind !== 'ident' && ev.kind !== 'string') throw cur.expected(ev, 'an event name')
  cur.next()
  const event = ev.kind === 'string' ? ev.value : ev.text
  if (event === '') throw cur.fail(ev, 'an event name cannot be empty', 'an event name')
  const prediction = predictionEventProblem(event)
  if (prediction !== null) throw cur.fail(ev, prediction, 'an event name')
  const path = parseDottedTail(cur)
  const shown = cur.src.text.slice(ev.start, cur.lastEnd)
  if (fn === 'count' && path.length > 0) {
    const detail = `count() counts events and takes no field, got ${quote(shown)}; write count(${ev.text}), or sum(${shown}) to add up the field`
    throw errorAt(cur.src, ev.start, detail, { expected: 'an event name', got: quote(shown) })
  }
  if (fn !== 'count' && path.length === 0) {
    const detail = `${fn}() needs an event field, e.g. ${fn}(${shown}.amount), got ${quote(shown)}`
    throw errorAt(cur.src, ev.start, detail, { expected: 'an event field like event.field', got: quote(shown) })
  }

  let filter: Expr | null = null
  if (isWord(cur.peek(), 'where')) {
    cur.next()
    cur.inFilter = true
    filter = parseFilter()
    cur.inFilter = false
  }
  let window: DurationLiteral | null = null
  if (isPunct(cur.peek(), ',')) {
    cur.next()
    window = parseWindow(cur)
  }
  const close = cur.peek()
  if (!isPunct(close, ')')) {
    throw cur.expected(close, window ? '")"' : filter ? '"and", "or", "," or ")"' : '"where", "," or ")"')
  }
  cur.next()
  return { kind: 'aggregate', fn, event, field: fn === 'count' ? null : path, filter, window, start: name.start, end: close.end }
}

function parseWindow(cur: Cursor): DurationLiteral {
  const t = cur.peek()
  if (t.kind !== 'duration') {
    const hint = t.kind === 'bad' ? t.hint : t.kind === 'number' ? 'add a unit: s, m, h or d' : undefined
    throw cur.expected(t, 'a duration like 2h', hint)
  }
  if (t.ms <= 0) throw cur.fail(t, `a window must be longer than zero, got ${quote(t.text)}`, 'a duration like 2h')
  cur.next()
  return { kind: 'duration', ms: t.ms, start: t.start, end: t.end }
}

/** `.a.b` after a name. Keywords are fine as field names here: after a dot they cannot mean anything else. */
export function parseDottedTail(cur: Cursor): string[] {
  const path: string[] = []
  while (isPunct(cur.peek(), '.')) {
    cur.next()
    const f = cur.peek()
    if (f.kind !== 'ident' && f.kind !== 'keyword') throw cur.expected(f, 'a field name')
    cur.next()
    path.push(f.text)
  }
  return path
}

/** A literal token as a node, or null when the token is not a literal. */
export function literalOf(t: Token): Literal | null {
  const span = { start: t.start, end: t.end }
  switch (t.kind) {
    case 'number':
      return { kind: 'number', value: t.value, ...span }
    case 'duration':
      return { kind: 'duration', ms: t.ms, ...span }
    case 'string':
      return { kind: 'string', value: t.value, ...span }
    case 'keyword':
      if (t.word === 'true' || t.word === 'false') return { kind: 'boolean', value: t.word === 'true', ...span }
      return null
    default:
      return null
  }
}

/** `[lit, lit, ...]` after `in`; a trailing comma is allowed, an empty list matches nothing. */
export function parseList(cur: Cursor): { values: Literal[]; end: number } {
  cur.expectPunct('[', 'a list like ["TR", "DE"]')
  const values: Literal[] = []
  for (;;) {
    const t = cur.peek()
    if (isPunct(t, ']')) {
      cur.next()
      return { values, end: t.end }
    }
    const lit = literalOf(t)
    if (!lit) throw cur.expected(t, values.length === 0 ? 'a literal value or "]"' : 'a literal value')
    cur.next()
    values.push(lit)
    const sep = cur.peek()
    if (isPunct(sep, ',')) cur.next()
    else if (!isPunct(sep, ']')) throw cur.expected(sep, '"," or "]"')
  }
}
