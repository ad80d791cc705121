import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { stringify } from 'yaml'
import {
  compileRules,
  formatDuration,
  parseDuration,
  parseExpression,
  parseRulesYaml,
  RuleError,
  TraitCatalog,
  type RulesDefinition,
  type SegmentDefinition,
  type TraitDefinition,
} from '../rules/index.ts'
import type { SegmentInput } from './thread/protocol.ts'
import { isRuleName } from '../rules/names.ts'

/** The rules a server runs: parsed from a YAML file and written back when a segment changes at run time. */
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
  const next: RulesDefinition = { segments, triggers: def.triggers, ...(def.traits ? { traits: def.traits } : {}) }
  compileRules(next)
  return next
}

export function rulesToYaml(def: RulesDefinition): string {
  const traits: Record<string, string | Record<string, string | string[]>> = {}
  for (const t of def.traits ?? []) traits[t.name] = traitToYaml(t)
  const segments: Record<string, Record<string, string>> = {}
  for (const s of def.segments) {
    segments[s.name] = { ...(s.description ? { description: s.description } : {}), when: s.text, ...(s.keepMs > 0 ? { keep: formatDuration(s.keepMs) } : {}) }
  }
  const triggers: Record<string, Record<string, string>> = {}
  for (const t of def.triggers) {
    triggers[t.name] = { ...(t.description ? { description: t.description } : {}), on: t.on, ...(t.text ? { when: t.text } : {}), emit: t.emit }
  }
  return stringify({ ...(def.traits?.length ? { traits } : {}), segments, triggers })
}

/** The short form `name: type` when that is all there is to say. */
function traitToYaml(t: TraitDefinition): string | Record<string, string | string[]> {
  const description: Record<string, string> = t.description ? { description: t.description } : {}
  if (t.kind === 'computed') return { ...description, compute: t.text }
  const property = t.property.join('.')
  if (t.from === null && property === t.name && !t.description) return t.type
  return { ...description, type: t.type, ...(t.from === null ? {} : { from: [...t.from] }), ...(property === t.name ? {} : { property }) }
}

export function saveRules(path: string, def: RulesDefinition): void {
  writeFileSync(path, rulesToYaml(def))
}
