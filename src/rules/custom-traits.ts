import { AGGREGATE_FNS, type Aggregate } from './ast.ts'
import type { ExprSource } from './errors.ts'
import { isKeyword } from './lexer.ts'
import { isKnownTrait, PREDICTED_TRAIT_PREFIX, type TraitType } from './traits.ts'

/**
 * A trait the rules file declares (docs/segments.md, "Custom traits"): copied onto the profile from
 * the latest event (by event time) that carries the property, among the events named in `from`
 * (every event when null). Identify calls' traits are top-level properties of `identify` events, so
 * `plan: string` picks up `analytics.identify('u1', { plan: 'pro' })`.
 */
export interface PropertyTraitDefinition {
  readonly kind: 'property'
  readonly name: string
  readonly type: TraitType
  /** Event names whose property sets the trait; null = any event. */
  readonly from: readonly string[] | null
  /** Path within the event's properties: the trait's own name unless `property:` says otherwise. */
  readonly property: readonly string[]
  readonly description?: string | undefined
}

/** A number kept by the engine like any aggregate in a rule: `lifetime_value: { compute: sum(purchase.amount) }`. */
export interface ComputedTraitDefinition {
  readonly kind: 'computed'
  readonly name: string
  readonly type: 'number'
  readonly compute: Aggregate
  /** The aggregate as written. */
  readonly text: string
  readonly description?: string | undefined
  readonly source?: ExprSource | undefined
}

export type TraitDefinition = PropertyTraitDefinition | ComputedTraitDefinition

/** What the engine does with a declared trait, compiled once per rules version. */
export type CompiledTrait =
  | {
      readonly kind: 'property'
      readonly name: string
      readonly type: TraitType
      readonly from: ReadonlySet<string> | null
      readonly property: readonly string[]
    }
  | { readonly kind: 'computed'; readonly name: string; readonly type: 'number'; readonly metric: number }

/** Bounds against a rules file (or a tenant's events) growing every profile without limit. */
export const TRAIT_LIMITS = {
  /** Declared traits, property and computed together. */
  traits: 100,
  /** A string trait's longest value, in UTF-16 units: a longer value is not taken. */
  stringLength: 1024,
  /** A trait name's longest spelling. */
  nameLength: 64,
} as const

const TRAIT_NAME = /^[a-z_][a-z0-9_]*$/

/** Why `name` cannot name a declared trait, or null when it can. */
export function traitNameProblem(name: string): string | null {
  // Before the spelling rule: `predicted.churn_7d` is refused for what it is, not for its dot.
  if (isKnownTrait(name)) return `"${name}" is a built-in trait; pick another name`
  if (name.startsWith(PREDICTED_TRAIT_PREFIX)) return `names starting with "${PREDICTED_TRAIT_PREFIX}" are kept for the traits prediction events set; pick another name`
  if (!TRAIT_NAME.test(name) || name.length > TRAIT_LIMITS.nameLength) {
    return `a trait name is lower-case letters, digits and _, starting with a letter or _, at most ${TRAIT_LIMITS.nameLength} characters`
  }
  // A trait name becomes an object key in profiles and checkpoints: no key JavaScript treats specially.
  if (name === '__proto__') return '"__proto__" cannot name a trait'
  if (isKeyword(name)) return `"${name}" is a word of the rule language; pick another name`
  if (name === 'since' || (AGGREGATE_FNS as readonly string[]).includes(name)) {
    return `"${name}" is a function of the rule language; pick another name`
  }
  return null
}
