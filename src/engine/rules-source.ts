import { existsSync, readFileSync } from 'node:fs'
import { compileRules, parseDuration, parseExpression, parseRulesYaml, RuleError, TraitCatalog, type RulesDefinition, type SegmentDefinition } from '../rules/index.ts'
import type { SegmentInput } from './thread/protocol.ts'
import { isRuleName } from '../rules/names.ts'

/**
 * The rules file: the base every tenant runs (docs/tenancy.md). The server reads it at start and
 * never writes it; tenants' own rules live in the state store.
 */
export function loadRulesSource(path: string | null): RulesDefinition {
  if (path === null || !existsSync(path)) return { segments: [], triggers: [] }
  return parseRulesYaml(readFileSync(path, 'utf8'), path)
}

/**
 * Adds or replaces one segment. Errors point into the `when` text as sent (line and column of that
 * text), and the whole rule set is compiled before anything is accepted.
 */
export function upsertSegment(def: RulesDefinition, name: string, input: SegmentInput): RulesDefinition {
  if (!isRuleName(name))
    throw new RuleError({ detail: `segment name "${name}" must start with a letter or _ and contain only letters, digits, _ . : - (not __proto__)`, line: 1, column: 1, path: 'name' })
  const path = `segments.${name}.when`
  const when = parseExpression({ text: input.when, path, segment: name }, 'segment', new TraitCatalog(def.traits))
  let keepMs = 0
  if (input.keep !== undefined) {
    const d = parseDuration(input.keep)
    if (!d.ok) throw new RuleError({ detail: `keep must be a duration like 3m${d.hint ? ` (${d.hint})` : ''}, got "${input.keep}"`, line: 1, column: 1, path: `segments.${name}.keep`, segment: name })
    keepMs = d.ms
  }
  const segment: SegmentDefinition = { name, when, text: input.when, keepMs, description: input.description, source: { text: input.when, path, segment: name } }
  const segments = def.segments.some((s) => s.name === name) ? def.segments.map((s) => (s.name === name ? segment : s)) : [...def.segments, segment]
  const next: RulesDefinition = { ...def, segments }
  compileRules(next)
  return next
}
