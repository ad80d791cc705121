import { upsertSegment } from '../../engine/rules-source.ts'
import { compileRules, parseValue, type Aggregate, type TraitDefinition } from '../../rules/index.ts'
import type { SegmentInput, TraitInfo } from '../../engine/thread/protocol.ts'

export interface Validation {
  valid: true
  /** The aggregates the rule would keep per user, by canonical text (`count(spin, 1h)`). */
  metrics: string[]
}

/**
 * Compiles one segment exactly as PUT /v1/segments/:id would, without applying or saving it.
 * Segments do not refer to each other, so compiling it alone beside the running rules' declared
 * traits (`traits`, from the engine) finds every error the full rule set would. Throws the
 * RuleError (line, column) that PUT would answer with.
 */
export function validateSegment(name: string, input: SegmentInput, traits: readonly TraitInfo[] = []): Validation {
  const def = upsertSegment({ segments: [], triggers: [], traits: declared(traits) }, name, input)
  const compiled = compileRules(def)
  return { valid: true, metrics: compiled.segments[0]!.metrics.map((i) => compiled.metrics[i]!.key) }
}

/** The declared traits back from what GET /v1/traits shows of them. */
function declared(traits: readonly TraitInfo[]): TraitDefinition[] {
  return traits.flatMap((t): TraitDefinition[] => {
    if (t.kind === 'property') return [{ kind: 'property', name: t.name, type: t.type, from: t.from ?? null, property: (t.property ?? t.name).split('.') }]
    if (t.kind === 'computed' && t.compute !== undefined) {
      return [{ kind: 'computed', name: t.name, type: 'number', compute: parseValue(t.compute) as Aggregate, text: t.compute }]
    }
    return []
  })
}
