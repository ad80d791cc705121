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
  // Set only by prediction events (the daily scoring run, docs/predictions.md), never by activity:
  // each score null when its model was not published that day.
  'predicted.purchase_7d': 'number',
  'predicted.churn_7d': 'number',
  'predicted.wealth_30d': 'number',
  'predicted.model_version': 'string',
  'predicted.scored_at': 'timestamp',
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

type StringTrait = { [K in TraitName]: (typeof TRAITS)[K] extends 'string' ? K : never }[TraitName]

/**
 * The profile properties: string traits each copied from the latest event carrying a property of its
 * name (seed 004's profile; docs/engine.md, "Traits"). Listed, not derived from the string traits:
 * `predicted.model_version` is a string too, but only a prediction event may set it.
 */
export const PROFILE_PROPERTIES = ['country', 'language', 'user_agent', 'referrer', 'host'] as const satisfies readonly StringTrait[]
export type ProfileProperty = (typeof PROFILE_PROPERTIES)[number]

/**
 * The event the daily scoring run appends per scored user (src/events/prediction.ts spells it too:
 * this module imports nothing of the project). Not activity: rules read it only through the
 * `predicted.*` traits, so an aggregate or a trigger on it is refused (isPredictionEventName).
 */
export const PREDICTION_EVENT_NAME = '$prediction'
/** The prefix of the traits prediction events set. */
export const PREDICTED_TRAIT_PREFIX = 'predicted.'

/** The predicted traits, in registry order: `predicted.churn_7d` … `predicted.scored_at`. */
export const PREDICTED_TRAITS = KNOWN_TRAITS.filter((t) => t.startsWith(PREDICTED_TRAIT_PREFIX))

/** Why a rule cannot name this event (an aggregate's, a trigger's `on`), or null when it can. */
export function predictionEventProblem(event: string): string | null {
  if (event !== PREDICTION_EVENT_NAME) return null
  return `${quote(event)} events are predictions, not activity: read them as the traits ${PREDICTED_TRAITS.join(', ')}`
}

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
