/**
 * What a prediction run does, with its defaults (docs/predictions.md, "Defaults"). Days are UTC
 * days; a cutoff is the midnight that starts a day: features read the days before it, labels the
 * days from it on.
 */
export interface PredictOptions {
  /** Event names whose `amountField` is money spent (the engine's purchase events). */
  readonly purchaseEvents: readonly string[]
  readonly amountField: string
  /** A user is in a cutoff's population when active in the `lookbackDays` before it. */
  readonly lookbackDays: number
  /** Days of a tenant's history before its first training cutoff. */
  readonly minHistoryDays: number
  /** The most recent labelled cutoffs held out for evaluation (the models never see them). */
  readonly evalDays: number
  /** Rows sampled for training (per tenant and horizon), and for evaluation. */
  readonly maxTrainRows: number
  readonly maxEvalRows: number
  /** Gradient steps of the logistic regressions. */
  readonly steps: number
  /** Seeds the row samples: the same warehouse and seed give the same models. */
  readonly seed: number
  /** Non-purchase event names whose share of a user's events are features ("event mix"). */
  readonly mixEvents: number
  /** A held-out set smaller than this (or with fewer than `minClassRows` of either outcome) cannot judge a model. */
  readonly minEvalRows: number
  readonly minClassRows: number
}

export const PREDICT_DEFAULTS: PredictOptions = {
  purchaseEvents: ['purchase', 'in_app_purchase', 'approved_purchase'],
  amountField: 'amount',
  lookbackDays: 28,
  minHistoryDays: 7,
  evalDays: 7,
  maxTrainRows: 20_000,
  maxEvalRows: 200_000,
  steps: 100,
  seed: 1,
  mixEvents: 5,
  minEvalRows: 100,
  minClassRows: 10,
}

export const DAY_MS = 86_400_000

/** The models, their horizons and kinds. */
export const MODELS = {
  purchase_7d: { horizonDays: 7, kind: 'classifier', about: 'probability of a purchase in the next 7 days' },
  churn_7d: { horizonDays: 7, kind: 'classifier', about: 'probability of no activity at all in the next 7 days' },
  wealth_30d: { horizonDays: 30, kind: 'regression', about: 'player_wealth 30 days ahead (game players: users whose events carry player_wealth)' },
} as const

export type ModelName = keyof typeof MODELS
export const MODEL_NAMES = Object.keys(MODELS) as ModelName[]
