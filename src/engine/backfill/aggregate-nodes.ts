import { metricKey, type Aggregate, type Expr, type RulesDefinition } from '../../rules/index.ts'

/**
 * Every aggregate a rule set names, by its canonical text (the metric key): segments, triggers and
 * computed traits. A backfill turns each into SQL over the warehouse (rule-sql.ts's
 * aggregateRowsSql), which needs the expression, not the compiled metric.
 */
export function aggregateNodes(def: RulesDefinition): Map<string, Aggregate> {
  const out = new Map<string, Aggregate>()
  const walk = (e: Expr | null): void => {
    if (e === null) return
    switch (e.kind) {
      case 'and':
      case 'or':
      case 'compare':
        walk(e.left)
        walk(e.right)
        return
      case 'not':
      case 'in':
        walk(e.operand)
        return
      case 'aggregate':
        out.set(metricKey(e), e)
        return
      default:
        return
    }
  }
  for (const s of def.segments) walk(s.when)
  for (const t of def.triggers) walk(t.when)
  for (const t of def.traits ?? []) if (t.kind === 'computed') walk(t.compute)
  return out
}
