import type { RuleError } from '../../rules/index.ts'

/** The 400 body for a rule that does not compile: one shape, so the editor reads PUT's and validate's alike. */
export function ruleErrorBody(err: RuleError) {
  return { error: { code: 'invalid_rule', message: err.message, field: err.path?.split('.').pop() ?? 'when', line: err.line, column: err.column, ...(err.expected ? { expected: err.expected } : {}) } }
}
