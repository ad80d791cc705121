import type { Node } from 'yaml'
import { isMap, isScalar, isSeq } from './yaml-lib.ts'
import { TRAIT_LIMITS, traitNameProblem, type TraitDefinition } from './custom-traits.ts'
import { quote } from './errors.ts'
import { BUILTIN_TRAITS, predictionEventProblem, type TraitType } from './traits.ts'
import { describeNode, expression, text } from './yaml-expr.ts'
import type { Entry, YamlFile } from './yaml-nodes.ts'

const TYPES: readonly TraitType[] = ['string', 'number', 'boolean', 'timestamp']
const PROPERTY_KEYS = ['type', 'from', 'property', 'description'] as const
const COMPUTED_KEYS = ['compute', 'description'] as const
/** Dotted property paths: segments of letters, digits, _ $ and -, as event property names are written. */
const PROPERTY_PATH = /^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/

/**
 * The rules file's `traits:` section (docs/segments.md, "Custom traits"):
 *
 *   traits:
 *     plan: string                                   # from any event's `plan` property
 *     partner_name: { type: string, from: [identify, page] }
 *     campaign: { type: string, property: context.campaign.name }
 *     lifetime_value: { compute: sum(purchase.amount) }
 */
export function parseTraitsSection(y: YamlFile, value: Node): TraitDefinition[] {
  if (!isMap(value)) throw y.errorAtNode(value, 0, 'traits', '"traits" must be a map from trait name to its type or definition')
  const out: TraitDefinition[] = []
  for (const entry of y.entries(value, 'traits')) {
    if (out.length === TRAIT_LIMITS.traits) {
      throw y.error(entry.keyNode.range?.[0] ?? 0, 'traits', `at most ${TRAIT_LIMITS.traits} traits can be declared`)
    }
    out.push(traitDefinition(y, entry))
  }
  return out
}

function traitDefinition(y: YamlFile, { key: name, keyNode, value }: Entry): TraitDefinition {
  const path = `traits.${name}`
  const at = keyNode.range?.[0] ?? 0
  const problem = traitNameProblem(name)
  if (problem !== null) throw y.error(at, path, `invalid trait name ${quote(name)}: ${problem}`)
  if (value === null) throw y.error(at, path, `trait ${quote(name)} needs a type (${TYPES.join(', ')}) or a map with "type" or "compute"`)
  if (isScalar(value)) return { kind: 'property', name, type: traitType(y, value, path), from: null, property: [name] }
  if (!isMap(value)) throw y.errorAtNode(value, at, path, `expected a type or a map, got ${describeNode(value)}`)

  const entries = y.entries(value, path)
  const description = text(
    y,
    entries.find((e) => e.key === 'description'),
    `${path}.description`,
    {},
  )
  const compute = entries.find((e) => e.key === 'compute')
  if (compute) {
    y.checkKeys(entries, COMPUTED_KEYS, path)
    // Computed traits read events only, so the built-in catalog is enough to parse them.
    const parsed = expression(y, compute, `${path}.compute`, {}, 'value', BUILTIN_TRAITS)
    if (parsed.expr.kind !== 'aggregate') {
      throw y.errorAtNode(compute.value, at, `${path}.compute`, 'compute must be one aggregate, such as sum(purchase.amount) or count(login, 30d)')
    }
    return { kind: 'computed', name, type: 'number', compute: parsed.expr, text: parsed.source.text, description, source: parsed.source }
  }
  y.checkKeys(entries, PROPERTY_KEYS, path)
  const typeEntry = entries.find((e) => e.key === 'type')
  if (!typeEntry || typeEntry.value === null) throw y.error(at, path, `trait ${quote(name)} needs "type" (${TYPES.join(', ')}) or "compute"`)
  const type = traitType(y, typeEntry.value, `${path}.type`)
  const fromEntry = entries.find((e) => e.key === 'from')
  const propertyText = text(
    y,
    entries.find((e) => e.key === 'property'),
    `${path}.property`,
    {},
  )
  if (propertyText !== undefined && !PROPERTY_PATH.test(propertyText)) {
    throw y.error(at, `${path}.property`, `property must be a property name or a dotted path such as context.campaign.name, got ${quote(propertyText)}`)
  }
  return {
    kind: 'property',
    name,
    type,
    from: fromEntry && fromEntry.value !== null ? eventNames(y, fromEntry.value, `${path}.from`) : null,
    property: propertyText === undefined ? [name] : propertyText.split('.'),
    description,
  }
}

function traitType(y: YamlFile, node: Node, path: string): TraitType {
  const raw = isScalar(node) ? node.value : undefined
  if (typeof raw === 'string' && (TYPES as readonly string[]).includes(raw.trim())) return raw.trim() as TraitType
  const got = typeof raw === 'string' ? quote(raw) : describeNode(node)
  throw y.errorAtNode(node, 0, path, `a trait type is one of ${TYPES.join(', ')}, got ${got}`, { expected: TYPES.join(', '), got })
}

function eventNames(y: YamlFile, node: Node, path: string): string[] {
  const items = isSeq(node) ? node.items : [node]
  const names = items.map((item) => {
    const v = isScalar(item) ? item.value : undefined
    if (typeof v !== 'string' || v.trim() === '') throw y.errorAtNode(item as Node, 0, path, 'from is an event name or a list of event names')
    const prediction = predictionEventProblem(v.trim())
    if (prediction !== null) throw y.errorAtNode(item as Node, 0, path, prediction)
    return v.trim()
  })
  if (names.length === 0) throw y.errorAtNode(node, 0, path, 'from lists no event; leave it out to take the property from every event')
  return names
}
