/**
 * The segment-language AST: a plain discriminated union on `kind`, with no behaviour attached, so
 * that more than one back end can consume it (closures here, DuckDB SQL for backfill later).
 *
 * Every node carries `start`/`end`: UTF-16 offsets into the expression text, end exclusive.
 * Parentheses leave no node; a parenthesised expression keeps the span of its contents.
 *
 * Identifiers are already resolved by the parser:
 * - `trait`: a user trait (built in, or declared under `traits:` in the rules file), read from the profile.
 * - `field`: a property of "the event in scope": inside `where` the aggregated event, in a trigger's
 *   `when` the triggering event. `path` walks nested objects: `meta.price` is ['meta', 'price'].
 *
 * Duration literals are kept apart from numbers so SQL can print intervals, but they evaluate to
 * milliseconds and compare as numbers.
 */

export interface NodeBase {
  readonly start: number
  readonly end: number
}

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>='

export type AggregateFn = 'count' | 'sum' | 'min' | 'max' | 'avg' | 'distinct'

export const AGGREGATE_FNS: readonly AggregateFn[] = ['count', 'sum', 'min', 'max', 'avg', 'distinct']

export interface AndExpr extends NodeBase {
  readonly kind: 'and'
  readonly left: Expr
  readonly right: Expr
}

export interface OrExpr extends NodeBase {
  readonly kind: 'or'
  readonly left: Expr
  readonly right: Expr
}

export interface NotExpr extends NodeBase {
  readonly kind: 'not'
  readonly operand: Expr
}

/** `=` and `==` are both parsed to '='. */
export interface CompareExpr extends NodeBase {
  readonly kind: 'compare'
  readonly op: CompareOp
  readonly left: Expr
  readonly right: Expr
}

/** `x in [..]`, or `x not in [..]` when negated. */
export interface InExpr extends NodeBase {
  readonly kind: 'in'
  readonly operand: Expr
  readonly values: readonly Literal[]
  readonly negated: boolean
}

/**
 * `sum(purchase.meta.price where item = "sword", 1d)`: event 'purchase', field ['meta', 'price'].
 * `field` is null exactly when fn is 'count'. `window` null means lifetime.
 */
export interface Aggregate extends NodeBase {
  readonly kind: 'aggregate'
  readonly fn: AggregateFn
  readonly event: string
  readonly field: readonly string[] | null
  readonly filter: Expr | null
  readonly window: DurationLiteral | null
}

/** `since(last_seen)`: now − trait, in ms; null when the trait is not a number. */
export interface SinceCall extends NodeBase {
  readonly kind: 'since'
  readonly trait: string
}

export interface TraitRef extends NodeBase {
  readonly kind: 'trait'
  readonly name: string
}

export interface FieldRef extends NodeBase {
  readonly kind: 'field'
  readonly path: readonly string[]
}

export interface NumberLiteral extends NodeBase {
  readonly kind: 'number'
  readonly value: number
}

export interface DurationLiteral extends NodeBase {
  readonly kind: 'duration'
  readonly ms: number
}

export interface StringLiteral extends NodeBase {
  readonly kind: 'string'
  readonly value: string
}

export interface BooleanLiteral extends NodeBase {
  readonly kind: 'boolean'
  readonly value: boolean
}

export type Literal = NumberLiteral | DurationLiteral | StringLiteral | BooleanLiteral

export type Expr = AndExpr | OrExpr | NotExpr | CompareExpr | InExpr | Aggregate | SinceCall | TraitRef | FieldRef | Literal

/** The value a literal evaluates to: durations become milliseconds. */
export function literalValue(lit: Literal): string | number | boolean {
  return lit.kind === 'duration' ? lit.ms : lit.value
}

/** The direct sub-expressions of a node (an aggregate's `where` excluded: it is about one event). */
export function childExprs(e: Expr): Expr[] {
  switch (e.kind) {
    case 'and':
    case 'or':
    case 'compare':
      return [e.left, e.right]
    case 'not':
      return [e.operand]
    case 'in':
      return [e.operand]
    default:
      return []
  }
}
