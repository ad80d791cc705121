import type { EngineOptions } from './engine-options.ts'
import type { EngineRules } from './engine-rules.ts'
import { isKnownTrait, type RuleEnv, type TraitName, type TraitValues } from '../rules/index.ts'
import type { UserState } from './user-state.ts'
import { metricValueAt } from './custom-traits.ts'
import { emptyValue } from './metrics/metric-state.ts'

/**
 * The one RuleEnv a partition reuses for every evaluation: pointing it at a user and a time costs
 * two assignments, where a fresh object per event would cost an allocation.
 */
export class UserEnv implements RuleEnv {
  now = 0
  user!: UserState
  props: Readonly<Record<string, unknown>> | undefined = undefined

  constructor(
    private readonly rules: EngineRules,
    private readonly options: EngineOptions,
  ) {}

  metric(index: number): number | null {
    const m = this.user.metrics[index]
    if (m === undefined) return emptyValue(this.rules.metrics[index]!.spec.agg)
    m.advance(this.now)
    return m.value()
  }

  trait(name: string): string | number | boolean | null {
    return anyTrait(this.user, name, this.now, this.rules, this.options)
  }
}

/**
 * Any trait a rule set can name at time `now`: a built-in one, or one the rules file declares
 * (a property trait's kept value, a computed trait's aggregate). Null for a name it does not know.
 */
export function anyTrait(u: UserState, name: string, now: number, rules: EngineRules, options: EngineOptions): string | number | boolean | null {
  if (isKnownTrait(name)) return userTrait(u, name, now, options)
  const t = rules.traitsByName.get(name)
  if (t === undefined) return null
  if (t.kind === 'property') return u.custom?.[name] ?? null
  return metricValueAt(u.metrics[t.metric], rules.metrics[t.metric]!.spec.agg, now)
}

/**
 * A registry trait's value for a user at time `now`. The switch is exhaustive over TraitName: a
 * trait added to src/rules/traits.ts does not compile until the engine can answer it.
 */
export function userTrait<K extends TraitName>(u: UserState, name: K, now: number, options: EngineOptions): TraitValues[K]
export function userTrait(u: UserState, name: TraitName, now: number, options: EngineOptions): string | number | boolean | null {
  switch (name) {
    case 'first_seen':
      return Number.isFinite(u.firstSeen) ? u.firstSeen : null
    case 'last_seen':
      return Number.isFinite(u.lastSeen) ? u.lastSeen : null
    case 'is_new':
      return Number.isFinite(u.firstSeen) ? now - u.firstSeen < options.newUserMs : null
    case 'total_purchases':
      return u.totalPurchases
    case 'event_count':
      return u.eventCount
    case 'country':
    case 'language':
    case 'user_agent':
    case 'referrer':
    case 'host':
      return u.profile[name] ?? null
    case 'predicted.purchase_7d':
      return u.predicted?.purchase_7d ?? null
    case 'predicted.churn_7d':
      return u.predicted?.churn_7d ?? null
    case 'predicted.wealth_30d':
      return u.predicted?.wealth_30d ?? null
    case 'predicted.model_version':
      return u.predicted?.model_version ?? null
    case 'predicted.scored_at':
      return u.predicted?.scored_at ?? null
    default:
      return unknownTrait(name)
  }
}

function unknownTrait(name: never): null {
  void name
  return null
}
