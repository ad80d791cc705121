import { calibration, type CalibrationBin } from './calibration.ts'
import { checkLabels, mae, prAuc, r2, rocAuc } from './evaluate.ts'

/** A model's (or baseline's) figures on the held-out rows (docs/predictions.md, "Quality"). */
export type Quality =
  | {
      readonly kind: 'classifier'
      readonly rows: number
      readonly positives: number
      /** The share of positive rows: what a random score's PR AUC comes to. */
      readonly positiveRate: number
      readonly rocAuc: number | null
      readonly prAuc: number | null
      readonly calibration: CalibrationBin[]
    }
  | {
      readonly kind: 'regression'
      readonly rows: number
      readonly mae: number | null
      readonly r2: number | null
      readonly calibration: CalibrationBin[]
    }

export function classifierQuality(predicted: Float64Array, actual: Float64Array): Quality {
  const labels = Uint8Array.from(actual, (v) => (v === 1 ? 1 : 0))
  const positives = checkLabels(labels)
  return {
    kind: 'classifier',
    rows: labels.length,
    positives,
    positiveRate: labels.length > 0 ? positives / labels.length : 0,
    rocAuc: rocAuc(predicted, labels),
    prAuc: prAuc(predicted, labels),
    calibration: calibration(predicted, actual),
  }
}

export function regressionQuality(predicted: Float64Array, actual: Float64Array): Quality {
  return { kind: 'regression', rows: actual.length, mae: mae(predicted, actual), r2: r2(predicted, actual), calibration: calibration(predicted, actual) }
}

const fmt = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4))

/**
 * Whether a model beats its baseline on the held-out rows: a classifier must have both the higher
 * ROC AUC and the higher PR AUC, a regression the lower MAE. The reason names the figures either way.
 */
export function beatsBaseline(model: Quality, baseline: Quality): { beats: boolean; reason: string } {
  if (model.kind === 'classifier' && baseline.kind === 'classifier') {
    const roc = model.rocAuc !== null && baseline.rocAuc !== null && model.rocAuc > baseline.rocAuc
    const pr = model.prAuc !== null && baseline.prAuc !== null && model.prAuc > baseline.prAuc
    const figures = `ROC AUC ${fmt(model.rocAuc)} vs baseline ${fmt(baseline.rocAuc)}, PR AUC ${fmt(model.prAuc)} vs baseline ${fmt(baseline.prAuc)}`
    return roc && pr ? { beats: true, reason: `beats its baseline: ${figures}` } : { beats: false, reason: `does not beat its baseline: ${figures}` }
  }
  if (model.kind === 'regression' && baseline.kind === 'regression') {
    const beats = model.mae !== null && baseline.mae !== null && model.mae < baseline.mae
    const figures = `MAE ${fmt(model.mae)} vs baseline ${fmt(baseline.mae)}`
    return beats ? { beats, reason: `beats its baseline: ${figures}` } : { beats, reason: `does not beat its baseline: ${figures}` }
  }
  return { beats: false, reason: 'model and baseline were measured differently' }
}
