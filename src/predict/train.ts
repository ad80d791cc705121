import type { RunConnection } from './call-gate.ts'
import { BASELINES, baselineScores, splitRates, type SplitRates } from './baselines.ts'
import { daysNeeded, planCutoffs, readPairs, samplePairs, type CutoffPlan, type Dataset } from './dataset.ts'
import { featureNames } from './features.ts'
import { fitLinear, fitLogistic, scoreRows, type FittedModel } from './models.ts'
import { MODELS, type ModelName, type PredictOptions } from './predict-options.ts'
import { classifierQuality, regressionQuality, beatsBaseline, type Quality } from './quality.ts'

/** One model's training and evaluation in a run (docs/predictions.md, "Run records"). */
export interface ModelReport {
  readonly about: string
  readonly horizonDays: number
  /** published: beat its baseline, its scores become traits; not_published: trained, did not; not_trained: see `reason`. */
  readonly status: 'published' | 'not_published' | 'not_trained'
  readonly reason: string | null
  /** Cutoff days (YYYY-MM-DD): trained on [trainFrom, trainTo], evaluated on [evalFrom, evalTo]. */
  readonly cutoffs: { trainFrom: string; trainTo: string; evalFrom: string; evalTo: string } | null
  readonly trainRows: number
  readonly evalRows: number
  readonly quality: Quality | null
  readonly baseline: { description: string; quality: Quality | null }
  readonly model: FittedModel | null
}

/** A tenant's training: its history, its event-mix events and each model's report. */
export interface TenantTraining {
  readonly firstDay: string
  readonly days: number
  readonly mix: readonly string[]
  readonly models: Record<ModelName, ModelReport>
}

export const dayText = (d: number): string => new Date(d * 86_400_000).toISOString().slice(0, 10)

function notTrained(name: ModelName, reason: string, plan: CutoffPlan | null = null, trainRows = 0, evalRows = 0): ModelReport {
  const m = MODELS[name]
  return {
    about: m.about,
    horizonDays: m.horizonDays,
    status: 'not_trained',
    reason,
    cutoffs: plan === null ? null : cutoffText(plan),
    trainRows,
    evalRows,
    quality: null,
    baseline: { description: BASELINES[name].description, quality: null },
    model: null,
  }
}

function cutoffText(p: CutoffPlan): ModelReport['cutoffs'] {
  return { trainFrom: dayText(p.trainFrom), trainTo: dayText(p.evalFrom - 1), evalFrom: dayText(p.evalFrom), evalTo: dayText(p.evalTo) }
}

function rowsWhere(ds: Dataset, keep: (r: number) => boolean): Int32Array {
  const out: number[] = []
  for (let r = 0; r < ds.rows; r++) if (keep(r)) out.push(r)
  return Int32Array.from(out)
}

/** One model from a horizon's dataset: fitted on the training rows, judged with its baseline on the held-out ones. */
function trainModel(name: ModelName, ds: Dataset, names: readonly string[], plan: CutoffPlan, o: PredictOptions): ModelReport {
  const labels = ds.labels!
  const col = (f: string) => ds.features[names.indexOf(f)]!
  const isWealth = name === 'wealth_30d'
  const y = name === 'purchase_7d' ? labels.purchase : name === 'churn_7d' ? labels.churn : labels.wealth
  // Wealth is a game player's: rows with a wealth now and a known wealth at the horizon.
  const usable = (r: number) => !isWealth || (col('has_wealth')[r] === 1 && Number.isFinite(y[r]!))
  const train = rowsWhere(ds, (r) => ds.eval[r] === 0 && usable(r))
  const held = rowsWhere(ds, (r) => ds.eval[r] === 1 && usable(r))
  if (held.length < o.minEvalRows) return notTrained(name, `${held.length} held-out rows, fewer than ${o.minEvalRows}: too few to judge a model`, plan, train.length, held.length)
  if (!isWealth) {
    let pos = 0
    for (const r of held) pos += y[r]!
    if (pos < o.minClassRows || held.length - pos < o.minClassRows) {
      return notTrained(name, `the held-out days have ${pos} positive and ${held.length - pos} negative rows; each needs ${o.minClassRows}`, plan, train.length, held.length)
    }
  }
  const b = BASELINES[name]
  const bFeature = col(b.feature)
  const rates: SplitRates | null = b.kind === 'split' ? splitRates(bFeature, y, train) : null
  const model = isWealth ? fitLinear(names, ds.features, y, train, 'wealth') : fitLogistic(names, ds.features, y, train, o.steps)
  if (model === null) return notTrained(name, 'the training days hold only one outcome', plan, train.length, held.length)
  const actual = Float64Array.from(held, (r) => y[r]!)
  const predicted = scoreRows(model, ds.features, held)
  const base = baselineScores(b, bFeature, rates, held)
  const quality = isWealth ? regressionQuality(predicted, actual) : classifierQuality(predicted, actual)
  const baseQuality = isWealth ? regressionQuality(base, actual) : classifierQuality(base, actual)
  const verdict = beatsBaseline(quality, baseQuality)
  return {
    about: MODELS[name].about,
    horizonDays: MODELS[name].horizonDays,
    status: verdict.beats ? 'published' : 'not_published',
    reason: verdict.reason,
    cutoffs: cutoffText(plan),
    trainRows: train.length,
    evalRows: held.length,
    quality,
    baseline: { description: b.description, quality: baseQuality },
    model,
  }
}

/**
 * Trains and evaluates every model of one tenant from the `daily` table (features.ts): per horizon
 * a seeded sample of (user, cutoff) pairs, the older cutoffs to train on and the most recent
 * labelled ones held out. `asOfDay`: the first day not read (today, in a daily run).
 */
export async function trainTenant(conn: RunConnection, tenant: string, mix: readonly string[], firstDay: number, asOfDay: number, o: PredictOptions): Promise<TenantTraining> {
  const names = featureNames(mix, o.mixEvents)
  const models = {} as Record<ModelName, ModelReport>
  const byHorizon = new Map<number, ModelName[]>()
  for (const [name, m] of Object.entries(MODELS) as Array<[ModelName, (typeof MODELS)[ModelName]]>) {
    byHorizon.set(m.horizonDays, [...(byHorizon.get(m.horizonDays) ?? []), name])
  }
  for (const [horizon, group] of byHorizon) {
    const plan = planCutoffs(firstDay, asOfDay, horizon, o)
    if (plan === null) {
      const reason = `needs ${daysNeeded(horizon, o)} days of history before today, the warehouse has ${asOfDay - firstDay}`
      for (const name of group) models[name] = notTrained(name, reason)
      continue
    }
    await samplePairs(conn, tenant, plan, o)
    const ds = await readPairs(conn, tenant, names.length, o, horizon)
    for (const name of group) models[name] = trainModel(name, ds, names, plan, o)
  }
  return { firstDay: dayText(firstDay), days: asOfDay - firstDay, mix, models }
}
