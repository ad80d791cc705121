import { literalValue, type Aggregate, type CompareOp, type Expr, type FieldRef, type SinceCall, type TraitRef } from './ast.ts'

/** What any sub-expression evaluates to. null stands for missing / undefined. */
export type Value = string | number | boolean | null

export type Evaluator<C> = (ctx: C) => Value
export type Predicate<C> = (ctx: C) => boolean

/**
 * How the leaves read their data. The boolean and comparison logic is the same for a `where`
 * filter (context: the event's properties) and a `when` (context: RuleEnv); only leaves differ.
 */
export interface Leaves<C> {
  field(node: FieldRef): Evaluator<C>
  trait(node: TraitRef): Evaluator<C>
  since(node: SinceCall): Evaluator<C>
  aggregate(node: Aggregate): Evaluator<C>
}

type Comparator = (a: Value, b: Value) => boolean

const ordered = (a: Value, b: Value): boolean => a !== null && b !== null && typeof a === typeof b && (typeof a === 'number' || typeof a === 'string')

/**
 * A null side makes every comparison false, `!=` included. Ordering only holds between two numbers
 * or two strings (code-unit order); mixed types are unordered and compare false, never throw.
 */
export const COMPARATORS: Readonly<Record<CompareOp, Comparator>> = {
  '=': (a, b) => a !== null && a === b,
  '!=': (a, b) => a !== null && b !== null && a !== b,
  '<': (a, b) => ordered(a, b) && (a as number) < (b as number),
  '<=': (a, b) => ordered(a, b) && (a as number) <= (b as number),
  '>': (a, b) => ordered(a, b) && (a as number) > (b as number),
  '>=': (a, b) => ordered(a, b) && (a as number) >= (b as number),
}

/** Compiles a node in condition position: true only when the node is a condition that holds or the value `true`. */
export function compileCondition<C>(e: Expr, leaves: Leaves<C>): Predicate<C> {
  switch (e.kind) {
    case 'and': {
      const l = compileCondition(e.left, leaves)
      const r = compileCondition(e.right, leaves)
      return (c) => l(c) && r(c)
    }
    case 'or': {
      const l = compileCondition(e.left, leaves)
      const r = compileCondition(e.right, leaves)
      return (c) => l(c) || r(c)
    }
    case 'not': {
      const inner = compileCondition(e.operand, leaves)
      return (c) => !inner(c)
    }
    case 'compare':
      return compileCompare(e.op, e.left, e.right, leaves)
    case 'in': {
      const v = compileValue(e.operand, leaves)
      const set = new Set<Value>(e.values.map(literalValue))
      return e.negated ? (c) => notIn(v(c), set) : (c) => isIn(v(c), set)
    }
    default: {
      const v = compileValue(e, leaves)
      return (c) => v(c) === true
    }
  }
}

const isIn = (v: Value, set: ReadonlySet<Value>): boolean => v !== null && set.has(v)
const notIn = (v: Value, set: ReadonlySet<Value>): boolean => v !== null && !set.has(v)

function compileCompare<C>(op: CompareOp, left: Expr, right: Expr, leaves: Leaves<C>): Predicate<C> {
  const cmp = COMPARATORS[op]
  const l = compileValue(left, leaves)
  // The usual shape is `metric > constant`: keep the constant out of the per-event call.
  if (isLiteral(right)) {
    const k = literalValue(right)
    if (typeof k === 'number') {
      // `metric >= 200`: a typeof check and one comparison, no generic comparator call.
      switch (op) {
        case '>':
          return (c) => {
            const v = l(c)
            return typeof v === 'number' && v > k
          }
        case '>=':
          return (c) => {
            const v = l(c)
            return typeof v === 'number' && v >= k
          }
        case '<':
          return (c) => {
            const v = l(c)
            return typeof v === 'number' && v < k
          }
        case '<=':
          return (c) => {
            const v = l(c)
            return typeof v === 'number' && v <= k
          }
      }
    }
    return (c) => cmp(l(c), k)
  }
  const r = compileValue(right, leaves)
  return (c) => cmp(l(c), r(c))
}

function isLiteral(e: Expr): e is Extract<Expr, { kind: 'number' | 'duration' | 'string' | 'boolean' }> {
  return e.kind === 'number' || e.kind === 'duration' || e.kind === 'string' || e.kind === 'boolean'
}

/** Compiles a node in value position. Conditions used as values yield booleans. */
export function compileValue<C>(e: Expr, leaves: Leaves<C>): Evaluator<C> {
  switch (e.kind) {
    case 'field':
      return leaves.field(e)
    case 'trait':
      return leaves.trait(e)
    case 'since':
      return leaves.since(e)
    case 'aggregate':
      return leaves.aggregate(e)
    case 'number':
    case 'duration':
    case 'string':
    case 'boolean': {
      const k = literalValue(e)
      return () => k
    }
    default:
      return compileCondition(e, leaves)
  }
}
