import type { EngineOptions } from './engine-options.ts'
import type { EngineRules } from './engine-rules.ts'
import { eventPlan, type EventPlan } from './event-plan.ts'
import { UserEnv } from './rule-env.ts'
import { LifetimeMetric } from './metrics/lifetime.ts'
import type { MetricState } from './metrics/metric-state.ts'
import { WindowedMetric } from './metrics/windowed.ts'

/**
 * What a partition keeps per prepared rule set: the RuleEnv it evaluates with and the plan of each
 * event name. One for the base, one per tenant rule set in effect (docs/tenancy.md).
 */
export class RuleRuntime {
  readonly env: UserEnv
  private readonly plans = new Map<string, EventPlan>()
  private lastEvent = ''
  private lastPlan: EventPlan | null = null

  constructor(
    readonly rules: EngineRules,
    options: EngineOptions,
  ) {
    this.env = new UserEnv(rules, options)
  }

  /** A user's first state of aggregate `index`, at time T. */
  newMetric(index: number, T: number): MetricState {
    const m = this.rules.metrics[index]!
    return m.shape === null ? new LifetimeMetric(m.spec.agg) : WindowedMetric.empty(m.spec.agg, m.shape, T)
  }

  plan(event: string): EventPlan {
    // Runs of the same event name are the rule (a player's spins): the decoder hands out the same
    // string for them, and comparing it with the last one skips a Map lookup per event.
    if (event === this.lastEvent && this.lastPlan !== null) return this.lastPlan
    let plan = this.plans.get(event)
    if (plan === undefined) this.plans.set(event, (plan = eventPlan(this.rules, event)))
    this.lastEvent = event
    this.lastPlan = plan
    return plan
  }
}
