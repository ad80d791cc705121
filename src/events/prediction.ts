/*
 * A prediction event (docs/predictions.md): the daily scoring run appends one per scored user to the
 * `events` log, so every engine (the `serve` thread or `tagstream worker` processes) sets the user's
 * `predicted.*` traits exactly once, in log order, and the warehouse sink files the scores as
 * `event=$prediction` rows, which the `predictions` view reads. The name starts with `$`, which the
 * event-name rule refuses (EVENT_NAME_RULE), so no client can send one over HTTP.
 */
export const PREDICTION_EVENT = '$prediction'

/**
 * The event's properties. A score the run did not publish (its model did not beat the baseline)
 * is null: the trait is cleared rather than left at an older run's value. `scored_at` is the event's
 * `ts` (epoch ms); `model_version` names the training run whose models scored the user.
 */
export const PREDICTION_SCORES = ['purchase_7d', 'churn_7d', 'wealth_30d'] as const
export type PredictionScore = (typeof PREDICTION_SCORES)[number]
export const PREDICTION_VERSION_FIELD = 'model_version'

/** Prefix of the traits the engine sets from prediction events: `predicted.churn_7d`, `predicted.scored_at`. */
export const PREDICTED_PREFIX = 'predicted.'

export function isPredictionEvent(name: string): boolean {
  return name === PREDICTION_EVENT
}
