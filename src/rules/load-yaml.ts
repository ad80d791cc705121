import { readFileSync } from 'node:fs'
import { isMap, isScalar, newLineCounter, parseDocument } from './yaml-lib.ts'
import { compileRules } from './compile.ts'
import { parseDuration } from './duration.ts'
import { quote } from './errors.ts'
import { parseTraitsSection } from './load-traits.ts'
import { parseStreamsSection } from './load-streams.ts'
import { compileMessage } from './message-template.ts'
import { predictionEventProblem, TraitCatalog } from './traits.ts'
import type { CompiledRules, RulesDefinition, SegmentDefinition, TriggerDefinition } from './types.ts'
import type { TraitDefinition } from './custom-traits.ts'
import { describeNode, expression, text } from './yaml-expr.ts'
import { YamlFile, type Entry, type ErrorExtra } from './yaml-nodes.ts'
import { isRuleName } from './names.ts'

const TOP_KEYS = ['traits', 'streams', 'segments', 'triggers'] as const
const SEGMENT_KEYS = ['when', 'keep', 'description'] as const
const TRIGGER_KEYS = ['on', 'when', 'emit', 'message', 'description'] as const
export const DEFAULT_EMIT = 'notification'
/** The `emit` that also writes the player-notifications log and the player's inbox (docs/streams.md). */
export const PLAYER_EMIT = 'player'

export function loadRulesFile(path: string): CompiledRules {
  return compileRules(parseRulesYaml(readFileSync(path, 'utf8'), path))
}

export function compileRulesYaml(source: string, fileName?: string): CompiledRules {
  return compileRules(parseRulesYaml(source, fileName))
}

/**
 * Parses and validates a rules file. Every error, from YAML syntax to an unknown trait deep in an
 * expression, is a RuleError positioned in `source`. Since JSON is YAML, a JSON rules document
 * is accepted too.
 *
 * `declared`: a tenant's own rules (docs/tenancy.md) resolve names against the traits of the
 * server's rules file and may not declare traits of their own.
 */
export function parseRulesYaml(source: string, fileName?: string, declared?: readonly TraitDefinition[]): RulesDefinition {
  const lines = newLineCounter()
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const y = new YamlFile(source, lines, fileName)
  const [bad] = doc.errors
  if (bad) throw y.error(bad.pos[0], undefined, `invalid YAML: ${bad.message}`)

  const def: RulesDefinition = { segments: [], triggers: [] }
  if (declared !== undefined && declared.length > 0) def.traits = [...declared]
  const root = doc.contents
  if (root === null || (isScalar(root) && root.value === null)) return def
  if (!isMap(root)) throw y.errorAtNode(root, 0, undefined, 'the rules file must be a map with "segments", "triggers" and/or "traits"')
  const top = y.entries(root, '')
  y.checkKeys(top, TOP_KEYS, '')
  if (declared !== undefined) {
    const own = top.find((e) => e.key === 'traits')
    if (own) throw y.error(own.keyNode.range?.[0] ?? 0, 'traits', 'traits are declared in the server rules file, not in a tenant rule set')
    const streams = top.find((e) => e.key === 'streams')
    if (streams) throw y.error(streams.keyNode.range?.[0] ?? 0, 'streams', 'streams are defined in the server rules file, not in a tenant rule set: each is a log of the server')
  }
  // Traits first, wherever the section sits in the file: rules resolve names against them.
  const traitsNode = top.find((e) => e.key === 'traits')?.value
  if (traitsNode) def.traits = parseTraitsSection(y, traitsNode)
  const catalog = new TraitCatalog(def.traits)
  const streamsNode = top.find((e) => e.key === 'streams')?.value
  if (streamsNode) def.streams = parseStreamsSection(y, streamsNode)
  for (const { key, value } of top) {
    if (value === null || key === 'traits' || key === 'streams') continue
    if (!isMap(value)) throw y.errorAtNode(value, 0, key, `${quote(key)} must be a map from name to definition`)
    for (const entry of y.entries(value, key)) {
      if (key === 'segments') def.segments.push(segment(y, entry, catalog))
      else def.triggers.push(trigger(y, entry, catalog))
    }
  }
  return def
}

function segment(y: YamlFile, { key: name, keyNode, value }: Entry, catalog: TraitCatalog): SegmentDefinition {
  const path = `segments.${name}`
  const owner = { segment: name }
  checkName(y, name, keyNode.range?.[0] ?? 0, path, 'segment', owner)
  if (!isMap(value)) {
    throw y.errorAtNode(value, keyNode.range?.[0] ?? 0, path, 'a segment must be a map with "when" and optionally "keep"', owner)
  }
  const entries = y.entries(value, path)
  y.checkKeys(entries, SEGMENT_KEYS, path)
  const when = entries.find((e) => e.key === 'when')
  if (!when) throw y.error(keyNode.range?.[0] ?? 0, path, 'missing "when": the condition for being in the segment', { ...owner, expected: '"when"' })
  const parsed = expression(y, when, `${path}.when`, owner, 'segment', catalog)
  const keep = entries.find((e) => e.key === 'keep')
  return {
    name,
    when: parsed.expr,
    text: parsed.source.text,
    keepMs: keep ? keepMs(y, keep, `${path}.keep`, owner) : 0,
    description: text(
      y,
      entries.find((e) => e.key === 'description'),
      `${path}.description`,
      owner,
    ),
    source: parsed.source,
  }
}

function trigger(y: YamlFile, { key: name, keyNode, value }: Entry, catalog: TraitCatalog): TriggerDefinition {
  const path = `triggers.${name}`
  const owner = { trigger: name }
  checkName(y, name, keyNode.range?.[0] ?? 0, path, 'trigger', owner)
  if (!isMap(value)) {
    throw y.errorAtNode(value, keyNode.range?.[0] ?? 0, path, 'a trigger must be a map with "on", "emit" and optionally "when"', owner)
  }
  const entries = y.entries(value, path)
  y.checkKeys(entries, TRIGGER_KEYS, path)
  const onEntry = entries.find((e) => e.key === 'on')
  const on = text(y, onEntry, `${path}.on`, owner)
  if (on === undefined || on === '') {
    const at = onEntry?.keyNode.range?.[0] ?? keyNode.range?.[0] ?? 0
    throw y.error(at, path, 'missing "on": the event name that fires the trigger', { ...owner, expected: '"on"' })
  }
  const prediction = predictionEventProblem(on)
  if (prediction !== null) throw y.errorAtNode(onEntry?.value ?? null, 0, `${path}.on`, prediction, owner)
  const whenEntry = entries.find((e) => e.key === 'when')
  const parsed = whenEntry ? expression(y, whenEntry, `${path}.when`, owner, 'trigger', catalog) : null
  const emitEntry = entries.find((e) => e.key === 'emit')
  const emit = text(y, emitEntry, `${path}.emit`, owner) ?? DEFAULT_EMIT
  if (!isRuleName(emit)) {
    throw y.errorAtNode(emitEntry?.value ?? null, 0, `${path}.emit`, `invalid emit target ${quote(emit)}`, owner)
  }
  const messageEntry = entries.find((e) => e.key === 'message')
  const message = text(y, messageEntry, `${path}.message`, owner)
  if (message !== undefined) {
    const compiled = compileMessage(message)
    if (typeof compiled === 'string') throw y.errorAtNode(messageEntry?.value ?? null, 0, `${path}.message`, compiled, owner)
  }
  return {
    name,
    on,
    when: parsed?.expr ?? null,
    text: parsed?.source.text ?? null,
    emit,
    message,
    description: text(
      y,
      entries.find((e) => e.key === 'description'),
      `${path}.description`,
      owner,
    ),
    source: parsed?.source,
  }
}

function keepMs(y: YamlFile, entry: Entry, path: string, owner: ErrorExtra): number {
  const node = entry.value
  const raw = isScalar(node) ? node.value : undefined
  const shown = typeof raw === 'string' || typeof raw === 'number' ? quote(String(raw).trim()) : describeNode(node)
  if (typeof raw === 'string') {
    const d = parseDuration(raw.trim())
    if (d.ok) return d.ms
    const hint = d.hint ? ` (${d.hint})` : ''
    throw y.errorAtNode(node, 0, path, `expected a duration like 3m, got ${shown}${hint}`, { ...owner, expected: 'a duration like 3m', got: shown })
  }
  const hint = typeof raw === 'number' ? ' (add a unit: s, m, h or d)' : ''
  const at = node ?? entry.keyNode
  throw y.errorAtNode(at, 0, path, `expected a duration like 3m, got ${shown}${hint}`, { ...owner, expected: 'a duration like 3m', got: shown })
}

function checkName(y: YamlFile, name: string, at: number, path: string, what: string, owner: ErrorExtra): void {
  if (isRuleName(name)) return
  const detail = `invalid ${what} name ${quote(name)}: use letters, digits and _ . : -, starting with a letter or _ (not __proto__)`
  throw y.error(at, path, detail, owner)
}
