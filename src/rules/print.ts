import type { Aggregate, Expr, Literal } from './ast.ts'
import { formatDuration } from './duration.ts'
import { isKeyword } from './lexer.ts'

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Binding strength, loosest first; an operand printed inside a tighter parent gets parentheses. */
const PRECEDENCE = { or: 1, and: 2, not: 3, compare: 4, atom: 5 } as const

/**
 * Canonical text of an expression: single spaces, lowercase keywords, `=` for equality,
 * double-quoted strings, durations in their largest exact unit, only the parentheses needed.
 * Equal meaning written differently (`120m` vs `2h`, `==` vs `=`) prints the same, which is
 * what metric deduplication relies on. The output parses back to an equivalent AST.
 */
export function printExpr(e: Expr): string {
  return print(e, 0)
}

/** The metric's name in APIs and state: `sum(in_app_purchase.amount, 2h)`. */
export function metricKey(a: Aggregate): string {
  let s = printEventName(a.event)
  if (a.field) s += `.${a.field.join('.')}`
  if (a.filter) s += ` where ${printExpr(a.filter)}`
  if (a.window) s += `, ${formatDuration(a.window.ms)}`
  return `${a.fn}(${s})`
}

export function printEventName(name: string): string {
  return IDENT.test(name) && !isKeyword(name) ? name : JSON.stringify(name)
}

export function printLiteral(lit: Literal): string {
  switch (lit.kind) {
    case 'string':
      return JSON.stringify(lit.value)
    case 'duration':
      return formatDuration(lit.ms)
    case 'number':
    case 'boolean':
      return String(lit.value)
  }
}

function print(e: Expr, parent: number): string {
  const [own, text] = render(e)
  return own < parent ? `(${text})` : text
}

function render(e: Expr): [number, string] {
  switch (e.kind) {
    case 'or':
      return [PRECEDENCE.or, `${print(e.left, PRECEDENCE.or)} or ${print(e.right, PRECEDENCE.or)}`]
    case 'and':
      return [PRECEDENCE.and, `${print(e.left, PRECEDENCE.and)} and ${print(e.right, PRECEDENCE.and)}`]
    case 'not':
      return [PRECEDENCE.not, `not ${print(e.operand, PRECEDENCE.not)}`]
    case 'compare':
      return [PRECEDENCE.compare, `${print(e.left, PRECEDENCE.atom)} ${e.op} ${print(e.right, PRECEDENCE.atom)}`]
    case 'in': {
      const list = `[${e.values.map(printLiteral).join(', ')}]`
      return [PRECEDENCE.compare, `${print(e.operand, PRECEDENCE.atom)} ${e.negated ? 'not in' : 'in'} ${list}`]
    }
    case 'aggregate':
      return [PRECEDENCE.atom, metricKey(e)]
    case 'since':
      return [PRECEDENCE.atom, `since(${e.trait})`]
    case 'trait':
      return [PRECEDENCE.atom, e.name]
    case 'field':
      return [PRECEDENCE.atom, e.path.join('.')]
    default:
      return [PRECEDENCE.atom, printLiteral(e)]
  }
}
