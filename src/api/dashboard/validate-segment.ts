import { upsertSegment } from '../../engine/rules-source.ts'
import { compileRules } from '../../rules/index.ts'
import type { SegmentInput } from '../../engine/thread/protocol.ts'

export interface Validation {
  valid: true
  /** The aggregates the rule would keep per user, by canonical text (`count(spin, 1h)`). */
  metrics: string[]
}

/**
 * Compiles one segment exactly as PUT /v1/segments/:id would, without applying or saving it.
 * Segments do not refer to each other, so compiling it alone finds every error the full rule set
 * would. Throws the RuleError (line, column) that PUT would answer with.
 */
export function validateSegment(name: string, input: SegmentInput): Validation {
  const def = upsertSegment({ segments: [], triggers: [] }, name, input)
  return { valid: true, metrics: compileRules(def).metrics.map((m) => m.key) }
}
