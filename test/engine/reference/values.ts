/**
 * The reference's pure functions (reference-engine.ts reads them): window shapes and slide-outs,
 * aggregate values, and conditions under segments.md's null semantics. Each one quotes the sentence
 * of docs/engine.md or docs/segments.md it implements.
 */
import type { RefEvent } from './reference-engine.ts'
import type { AggSpec, Cond, Scalar, Term, TraitName } from './rule-model.ts'

export type Value = Scalar | null

// ---------------------------------------------------------------------------------------------
// Windows: "The bucket size b is the largest whole number of milliseconds that divides the window w
// exactly and gives at least bucketsPerWindow buckets."

export interface Shape {
  bucketMs: number
  buckets: number
}

export function windowShape(windowMs: number, bucketsPerWindow: number): Shape {
  for (let b = Math.floor(windowMs / bucketsPerWindow); b >= 1; b--) if (windowMs % b === 0) return { bucketMs: b, buckets: windowMs / b }
  throw new Error(`no bucket size for a window of ${windowMs} ms`)
}

/** "The window at time T holds the user's applied events with ts ≤ T and bucket(ts) > bucket(T) − n." */
export function inWindow(ts: number, T: number, s: Shape): boolean {
  return ts <= T && Math.floor(ts / s.bucketMs) > Math.floor(T / s.bucketMs) - s.buckets
}

/** The first instant at which an event stops counting: the start of the bucket n buckets after its own. */
export function slideOut(ts: number, s: Shape): number {
  return (Math.floor(ts / s.bucketMs) + s.buckets) * s.bucketMs
}

// ---------------------------------------------------------------------------------------------
// Values. "Each value is rounded to millionths and the millionths are added as integers."

export function millionths(v: number): number {
  return Math.round(v * 1e6)
}

/** Property values as rules see them: only strings, booleans and finite numbers; anything else is null. */
export function readPath(props: Readonly<Record<string, unknown>>, path: readonly string[]): Value {
  let v: unknown = props
  for (const key of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return null
    v = (v as Record<string, unknown>)[key]
  }
  if (typeof v === 'string' || typeof v === 'boolean') return v
  if (typeof v === 'number' && Number.isFinite(v)) return v
  return null
}

export function aggregateValue(fn: AggSpec['fn'], values: readonly Value[]): number | null {
  if (fn === 'count') return values.length
  if (fn === 'distinct') {
    // `"1"` and `1` differ: the type is part of the identity.
    const seen = new Set(values.filter((v) => v !== null).map((v) => `${typeof v}:${String(v)}`))
    return seen.size
  }
  const numbers = values.filter((v): v is number => typeof v === 'number')
  const total = numbers.reduce((s, v) => s + millionths(v), 0) / 1e6
  switch (fn) {
    case 'sum':
      return total
    case 'avg':
      return numbers.length === 0 ? null : total / numbers.length
    case 'min':
      return numbers.length === 0 ? null : Math.min(...numbers)
    case 'max':
      return numbers.length === 0 ? null : Math.max(...numbers)
  }
}

// ---------------------------------------------------------------------------------------------
// Conditions. segments.md "Null semantics": a comparison with a null side is false; = and != compare
// type and value; < <= > >= only between two numbers or two strings; a bare value holds only if true.

function same(a: Scalar, b: Scalar): boolean {
  return typeof a === typeof b && a === b
}

function compare(op: string, a: Value, b: Value): boolean {
  if (a === null || b === null) return false
  if (op === '=') return same(a, b)
  if (op === '!=') return !same(a, b)
  const comparable = (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string')
  if (!comparable) return false
  switch (op) {
    case '<':
      return a < b
    case '<=':
      return a <= b
    case '>':
      return a > b
    case '>=':
      return a >= b
  }
  throw new Error(`unknown operator ${op}`)
}

/** What a condition can read: aggregates and traits of one user at one instant, and the event in scope. */
export interface Scope {
  aggregate(a: AggSpec): number | null
  trait(name: TraitName): Value
  now: number
  props: Readonly<Record<string, unknown>> | null
}

function term(t: Term, s: Scope): Value {
  switch (t.kind) {
    case 'agg':
      return s.aggregate(t.agg)
    case 'trait':
      return s.trait(t.name)
    case 'since': {
      const base = s.trait(t.trait)
      return typeof base === 'number' ? s.now - base : null
    }
    case 'prop':
      return s.props === null ? null : readPath(s.props, t.path)
    case 'duration':
      return t.ms
    default:
      return t.value
  }
}

export function holds(c: Cond, s: Scope): boolean {
  switch (c.kind) {
    case 'and':
      return holds(c.left, s) && holds(c.right, s)
    case 'or':
      return holds(c.left, s) || holds(c.right, s)
    case 'not':
      return !holds(c.operand, s)
    case 'cmp':
      return compare(c.op, term(c.left, s), term(c.right, s))
    case 'in': {
      const v = term(c.operand, s)
      if (v === null) return false
      const found = c.values.some((lit) => compare('=', v, term(lit, s)))
      return c.negated ? !found : found
    }
    case 'is':
      return term(c.operand, s) === true
  }
}

/** A filter sees only the aggregated event's properties. */
export function passes(a: AggSpec, e: RefEvent): boolean {
  if (e.event !== a.event) return false
  if (a.filter === null) return true
  const noUser = () => {
    throw new Error('a filter cannot read aggregates or traits')
  }
  return holds(a.filter, { aggregate: noUser, trait: noUser, now: NaN, props: e.properties })
}
