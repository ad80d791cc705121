import { errorAt, quote, type ExprSource } from './errors.ts'

export type TraitType = 'timestamp' | 'number' | 'boolean' | 'string'

/**
 * The user traits a rule may read, and their types. This is the one list: the parser resolves
 * bare identifiers against it, the compiler asks `RuleEnv.trait()` for these names only, and the
 * engine's profile must be able to answer each. Timestamps are epoch milliseconds.
 */
export const TRAITS = {
  first_seen: 'timestamp',
  last_seen: 'timestamp',
  is_new: 'boolean',
  total_purchases: 'number',
  event_count: 'number',
  country: 'string',
  language: 'string',
  user_agent: 'string',
  referrer: 'string',
  host: 'string',
} as const satisfies Record<string, TraitType>

export type TraitName = keyof typeof TRAITS

/** The value a trait of each type has (timestamps: epoch ms). */
interface TraitValueOf {
  timestamp: number
  number: number
  boolean: boolean
  string: string
}

/** Every trait's value for one user, null where the user has none: the `traits` of a profile. */
export type TraitValues = { [K in TraitName]: TraitValueOf[(typeof TRAITS)[K]] | null }

export const KNOWN_TRAITS = Object.keys(TRAITS) as readonly TraitName[]

/**
 * The string traits are profile properties: each is copied from the latest event carrying a property
 * of its name (seed 004's profile; docs/engine.md, "Traits"), in registry order.
 */
export type ProfileProperty = { [K in TraitName]: (typeof TRAITS)[K] extends 'string' ? K : never }[TraitName]
export const PROFILE_PROPERTIES: readonly ProfileProperty[] = KNOWN_TRAITS.filter((t): t is ProfileProperty => TRAITS[t] === 'string')

export function isKnownTrait(name: string): name is TraitName {
  return Object.hasOwn(TRAITS, name)
}

export function assertKnownTrait(name: string, src: ExprSource, offset: number): TraitName {
  if (isKnownTrait(name)) return name
  const known = KNOWN_TRAITS.join(', ')
  throw errorAt(src, offset, `unknown trait ${quote(name)}; known traits: ${known}`, {
    expected: `a known trait: ${known}`,
    got: quote(name),
  })
}

/** since() subtracts from now, so only timestamp traits make sense there. */
export function assertTimestampTrait(name: string, src: ExprSource, offset: number): TraitName {
  const trait = assertKnownTrait(name, src, offset)
  if (TRAITS[trait] === 'timestamp') return trait
  const stamps = KNOWN_TRAITS.filter((t) => TRAITS[t] === 'timestamp').join(' or ')
  throw errorAt(src, offset, `since() takes a timestamp trait (${stamps}), got ${quote(name)}`, {
    expected: `a timestamp trait: ${stamps}`,
    got: quote(name),
  })
}
