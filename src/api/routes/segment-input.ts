import type { RuleError } from '../../rules/index.ts'

/** The body of a segment definition, as PUT /v1/segments/:id and the dashboard's validate take it. */
export const SEGMENT_INPUT_SCHEMA = {
  type: 'object',
  required: ['when'],
  additionalProperties: false,
  properties: { when: { type: 'string', minLength: 1, maxLength: 10_000 }, keep: { type: 'string' }, description: { type: 'string', maxLength: 1_000 } },
} as const

/** The 400 body for a rule that does not compile: one shape, so the editor reads PUT's and validate's alike. */
export function ruleErrorBody(err: RuleError) {
  return { error: { code: 'invalid_rule', message: err.message, field: err.path?.split('.').pop() ?? 'when', line: err.line, column: err.column, ...(err.expected ? { expected: err.expected } : {}) } }
}
