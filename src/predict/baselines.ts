import type { ModelName } from './predict-options.ts'

/*
 * The naive rule each model must beat on the held-out days (docs/predictions.md, "Quality"). The
 * two classifiers' rules split users in two by one recent fact; each side scores its outcome rate on
 * the training rows, so the baseline is calibrated too and only its ranking can lose. Wealth's rule
 * carries today's value forward.
 */
export interface Baseline {
  readonly description: string
  /** The feature whose value decides the group (> 0), or the value carried forward. */
  readonly feature: string
  readonly kind: 'split' | 'carry'
}

export const BASELINES: Record<ModelName, Baseline> = {
  purchase_7d: { description: 'bought in the last 7 days (each group scored with its training purchase rate)', feature: 'purchases_7', kind: 'split' },
  churn_7d: { description: 'active in the last 7 days (each group scored with its training churn rate)', feature: 'active_days_7', kind: 'split' },
  wealth_30d: { description: 'last value carried forward: wealth in 30 days = wealth now', feature: 'wealth', kind: 'carry' },
}

/** A split baseline's outcome rates, learnt from the training rows. */
export interface SplitRates {
  readonly yes: number
  readonly no: number
}

export function splitRates(group: Float64Array, labels: Float64Array, rows: ArrayLike<number>): SplitRates {
  let yesN = 0
  let yesY = 0
  let noN = 0
  let noY = 0
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!
    if (group[r]! > 0) {
      yesN++
      yesY += labels[r]!
    } else {
      noN++
      noY += labels[r]!
    }
  }
  const all = (yesY + noY) / Math.max(1, yesN + noN)
  return { yes: yesN > 0 ? yesY / yesN : all, no: noN > 0 ? noY / noN : all }
}

/** The baseline's scores of the chosen rows. */
export function baselineScores(b: Baseline, feature: Float64Array, rates: SplitRates | null, rows: ArrayLike<number>): Float64Array {
  const out = new Float64Array(rows.length)
  for (let i = 0; i < rows.length; i++) {
    const x = feature[rows[i]!]!
    out[i] = b.kind === 'carry' || rates === null ? x : x > 0 ? rates.yes : rates.no
  }
  return out
}
