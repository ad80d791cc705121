import { childExprs, type Expr } from '../rules/index.ts'

/**
 * Whether sliding the window can only make a segment's rule false, never true. Then a user who is
 * not a member needs no slide-out timer at all — for the seed rule that is almost every user.
 *
 * True when every windowed aggregate in the rule is a count or distinct (which only shrink as
 * buckets leave), or a sum (which only shrinks while its values are not negative — the engine checks
 * that per user), compared as `agg > c` / `agg >= c` (or `c < agg`, `c <= agg`) under an even number
 * of `not`s.
 */
export function slideOnlyExits(expr: Expr): boolean {
  return check(expr, true)
}

/**
 * Whether time alone, with no event of the user's, cannot turn the condition from false to true:
 * sliding can only make it false (slideOnlyExits), and it reads no time (no since(), no trait: a
 * trait may be is_new, or a computed one over a window). Always false is the safe answer.
 */
export function timeCannotRaise(expr: Expr): boolean {
  return slideOnlyExits(expr) && !readsTime(expr)
}

function readsTime(e: Expr): boolean {
  return e.kind === 'since' || e.kind === 'trait' || childExprs(e).some(readsTime)
}

function check(e: Expr, positive: boolean): boolean {
  switch (e.kind) {
    case 'and':
    case 'or':
      return check(e.left, positive) && check(e.right, positive)
    case 'not':
      return check(e.operand, !positive)
    case 'compare': {
      const leftAgg = e.left.kind === 'aggregate' && e.left.window !== null
      const rightAgg = e.right.kind === 'aggregate' && e.right.window !== null
      if (!leftAgg && !rightAgg) return !hasWindowed(e.left) && !hasWindowed(e.right)
      if (leftAgg && rightAgg) return false
      const agg = leftAgg ? e.left : e.right
      if (agg.kind !== 'aggregate' || !(agg.fn === 'count' || agg.fn === 'distinct' || agg.fn === 'sum')) return false
      const other = leftAgg ? e.right : e.left
      if (hasWindowed(other)) return false
      // Normalise to "aggregate OP constant".
      const op = leftAgg ? e.op : flip(e.op)
      const growing = op === '>' || op === '>='
      return positive ? growing : false
    }
    default:
      return !hasWindowed(e)
  }
}

function flip(op: string): string {
  return op === '<' ? '>' : op === '<=' ? '>=' : op === '>' ? '<' : op === '>=' ? '<=' : op
}

function hasWindowed(e: Expr): boolean {
  return (e.kind === 'aggregate' && e.window !== null) || childExprs(e).some(hasWindowed)
}
