import type { Expr, NodeBase } from './ast.ts'
import { compileCondition, type Leaves } from './compile-expr.ts'
import { errorAt, type ExprSource } from './errors.ts'
import { pathReader } from './read-path.ts'

export type EventProps = Readonly<Record<string, unknown>>
export type EventFilter = (props: EventProps) => boolean

/**
 * Compiles a `where` filter to a predicate over one event's properties. The parser never puts
 * traits or calls in a filter; a hand-built AST that does is refused here with its position.
 */
export function compileFilter(filter: Expr, src: ExprSource): EventFilter {
  const refuse = (node: NodeBase): never => {
    throw errorAt(src, node.start, 'a filter can only test properties of the event; traits, aggregates and since() are not allowed')
  }
  const leaves: Leaves<EventProps> = {
    field: (node) => pathReader(node.path),
    trait: refuse,
    since: refuse,
    aggregate: refuse,
  }
  return compileCondition(filter, leaves)
}
