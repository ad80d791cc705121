import type { TrackedEvent } from '../events/envelope.ts'
import { PREDICTION_SCORES, PREDICTION_VERSION_FIELD, type PredictionScore } from '../events/prediction.ts'
import type { EngineStats } from './records.ts'
import type { RuleRuntime } from './rule-runtime.ts'
import type { Prediction, UserState } from './user-state.ts'

/** The predicted traits a profile shows, with what they mean (GET /v1/traits). */
export const PREDICTED_TRAIT_DESCRIPTIONS: Readonly<Record<string, string>> = {
  'predicted.purchase_7d': 'probability of a purchase in the next 7 days, from the latest daily scoring run (null when that model was not published)',
  'predicted.churn_7d': 'probability of no activity in the next 7 days, from the latest daily scoring run (null when that model was not published)',
  'predicted.wealth_30d': 'predicted wealth in 30 days, from the latest daily scoring run (null when that model was not published)',
  'predicted.model_version': 'the training run whose models scored the user last',
  'predicted.scored_at': 'when the user was scored last (epoch ms)',
}

/** A prediction event's values: a score that is not a finite number clears that trait. */
export function readPrediction(e: TrackedEvent): Prediction {
  const score = (name: PredictionScore): number | null => {
    const v = e.properties[name]
    return typeof v === 'number' && Number.isFinite(v) ? v : null
  }
  const version = e.properties[PREDICTION_VERSION_FIELD]
  const p: Prediction = { purchase_7d: null, churn_7d: null, wealth_30d: null, model_version: typeof version === 'string' ? version : null, scored_at: e.ts }
  for (const name of PREDICTION_SCORES) p[name] = score(name)
  return p
}

/**
 * Keeps `p` unless the user holds a prediction scored later. At an equal time the one taken last
 * wins: two predictions of one run at one instant are the same run's, in log order.
 */
export function takePrediction(user: UserState, p: Prediction): boolean {
  if (user.predicted !== null && p.scored_at < user.predicted.scored_at) return false
  user.predicted = p
  return true
}

/** An identity merge: the person keeps its own prediction unless the absorbed id's was scored later. */
export function mergePrediction(into: UserState, from: UserState): void {
  if (from.predicted !== null && (into.predicted === null || from.predicted.scored_at > into.predicted.scored_at)) into.predicted = from.predicted
}

/** What applying a prediction needs of the partition's engine (PartitionEngine). */
export interface PredictionHost {
  readonly watermark: number
  readonly stats: EngineStats
  getUser(tenant: string, userId: string): UserState | undefined
  runtimeOf(tenant: string): RuleRuntime
  evaluate(user: UserState, T: number, rt: RuleRuntime): void
  schedule(user: UserState, T: number, rt: RuleRuntime): void
  touch(user: UserState): void
}

/**
 * A prediction event read from the log (docs/engine.md, "Traits"). Not activity: it moves no clock,
 * is never held, and touches nothing but the predicted traits; it is applied at once at the
 * watermark, then the user's segments are evaluated and its timer set as after an event. Dropped
 * (counted in `predictionsDropped`) when the partition holds no such user: never seen, erased, or an
 * id absorbed into a person (its row is a redirect, not a user). The person is not given the
 * absorbed id's scores: they describe that device's history alone, and the person's own
 * prediction of the same run may reach its partition before or after them.
 */
export function applyPrediction(host: PredictionHost, e: TrackedEvent): void {
  const user = host.getUser(e.tenant, e.user_id)
  if (user === undefined || !takePrediction(user, readPrediction(e))) {
    host.stats.predictionsDropped++
    return
  }
  host.stats.predictions++
  const T = Number.isFinite(host.watermark) ? host.watermark : user.lastSeen
  const rt = host.runtimeOf(e.tenant)
  host.evaluate(user, T, rt)
  host.schedule(user, T, rt)
  host.touch(user)
}
