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

/**
 * Every trait one rule set can read, with its type: the built-in registry above, then the rules
 * file's own `traits:` (custom-traits.ts) in the order written. The parser resolves bare names
 * against it, so an undeclared trait is still an error at rule load.
 */
export class TraitCatalog {
  private readonly types = new Map<string, TraitType>()

  constructor(declared: ReadonlyArray<{ readonly name: string; readonly type: TraitType }> = []) {
    for (const name of KNOWN_TRAITS) this.types.set(name, TRAITS[name])
    for (const d of declared) this.types.set(d.name, d.type)
  }

  typeOf(name: string): TraitType | undefined {
    return this.types.get(name)
  }

  has(name: string): boolean {
    return this.types.has(name)
  }

  names(): string[] {
    return [...this.types.keys()]
  }
}

/** The catalog of a rule set that declares no traits of its own. */
export const BUILTIN_TRAITS = new TraitCatalog()

export function assertKnownTrait(name: string, src: ExprSource, offset: number, catalog: TraitCatalog = BUILTIN_TRAITS): string {
  if (catalog.has(name)) return name
  const known = catalog.names().join(', ')
  throw errorAt(src, offset, `unknown trait ${quote(name)}; known traits: ${known} (declare others under "traits:" in the rules file)`, {
    expected: `a known trait: ${known}`,
    got: quote(name),
  })
}

/** since() subtracts from now, so only timestamp traits make sense there. */
export function assertTimestampTrait(name: string, src: ExprSource, offset: number, catalog: TraitCatalog = BUILTIN_TRAITS): string {
  const trait = assertKnownTrait(name, src, offset, catalog)
  if (catalog.typeOf(trait) === 'timestamp') return trait
  const stamps = catalog
    .names()
    .filter((t) => catalog.typeOf(t) === 'timestamp')
    .join(' or ')
  throw errorAt(src, offset, `since() takes a timestamp trait (${stamps}), got ${quote(name)}`, {
    expected: `a timestamp trait: ${stamps}`,
    got: quote(name),
  })
}
