/**
 * The prediction quality measures (src/predict/evaluate.ts, calibration.ts): small cases worked by
 * hand, then the fast O(n log n) implementations against naive references written straight from the
 * definitions (pairwise AUC, a loop over thresholds for average precision, plain loops for the
 * regression errors, sorted object copies for calibration) on many seeded random inputs full of
 * ties, then each edge case.
 */
import { describe, expect, it } from 'vitest'
import { calibration, type CalibrationBin } from '../../src/predict/calibration.ts'
import { mae, positiveRate, prAuc, r2, rmse, rocAuc } from '../../src/predict/evaluate.ts'
import { mulberry32, type Rng } from '../support/prng.ts'

const f64 = (values: number[]) => Float64Array.from(values)
const u8 = (values: number[]) => Uint8Array.from(values)

// ---- Naive references: as literal as the definitions, no sorting tricks shared with the code under test.

/** P(score of a random positive > score of a random negative), ties one half, by every pair. */
function naiveAuc(scores: Float64Array, labels: Uint8Array): number | null {
  let wins = 0
  let pairs = 0
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] !== 1) continue
    for (let j = 0; j < scores.length; j++) {
      if (labels[j] !== 0) continue
      pairs++
      if (scores[i]! > scores[j]!) wins += 1
      else if (scores[i] === scores[j]) wins += 0.5
    }
  }
  return pairs === 0 ? null : wins / pairs
}

/** Σ (R_k − R_{k−1}) P_k over each distinct score t, high to low, predicting positive every score ≥ t. */
function naiveAp(scores: Float64Array, labels: Uint8Array): number | null {
  const positives = labels.reduce((s, l) => s + l, 0)
  if (positives === 0) return null
  const thresholds = [...new Set(scores)].sort((a, b) => b - a)
  let sum = 0
  let previousRecall = 0
  for (const t of thresholds) {
    let tp = 0
    let fp = 0
    for (let i = 0; i < scores.length; i++) {
      if (scores[i]! < t) continue
      if (labels[i] === 1) tp++
      else fp++
    }
    const recall = tp / positives
    sum += (recall - previousRecall) * (tp / (tp + fp))
    previousRecall = recall
  }
  return sum
}

function naiveRegression(pred: Float64Array, actual: Float64Array) {
  const n = pred.length
  if (n === 0) return { mae: null, rmse: null, r2: null }
  let abs = 0
  let sq = 0
  let total = 0
  for (let i = 0; i < n; i++) {
    abs += Math.abs(pred[i]! - actual[i]!)
    sq += (pred[i]! - actual[i]!) ** 2
    total += actual[i]!
  }
  const mean = total / n
  let ssTot = 0
  for (let i = 0; i < n; i++) ssTot += (actual[i]! - mean) ** 2
  const constant = actual.every((a) => a === actual[0])
  return { mae: abs / n, rmse: Math.sqrt(sq / n), r2: constant ? null : 1 - sq / ssTot }
}

/**
 * Calibration as the doc comment states it, the other way round: replace each row's actual by the
 * mean actual of all rows sharing its prediction (an O(n²) scan), sort copies of row objects by
 * prediction, slice at floor(b·n/k), average each slice. Giving every row of a tie group the group
 * mean is the same as sharing the group's sum pro rata among the bins it straddles.
 */
function naiveCalibration(pred: Float64Array, actual: Float64Array, bins: number): CalibrationBin[] {
  const rows = Array.from(pred, (p, i) => {
    let sum = 0
    let count = 0
    for (let j = 0; j < pred.length; j++) {
      if (pred[j] === p) {
        sum += actual[j]!
        count++
      }
    }
    return { p, a: sum / count, i }
  })
  rows.sort((x, y) => x.p - y.p)
  const n = rows.length
  const k = Math.min(bins, n)
  const out: CalibrationBin[] = []
  for (let b = 0; b < k; b++) {
    const slice = rows.slice(Math.floor((b * n) / k), Math.floor(((b + 1) * n) / k))
    out.push({
      bin: b + 1,
      count: slice.length,
      meanPredicted: slice.reduce((s, r) => s + r.p, 0) / slice.length,
      meanActual: slice.reduce((s, r) => s + r.a, 0) / slice.length,
      minPredicted: Math.min(...slice.map((r) => r.p)),
      maxPredicted: Math.max(...slice.map((r) => r.p)),
    })
  }
  return out
}

// ---- Random inputs with many ties.

/** A score on a grid of `levels` values (a few levels: heavy ties), leaning towards positives by `signal`. */
function randomClassification(rng: Rng, n: number) {
  const levels = [1, 2, 3, 5, 10, 50, 1e6][Math.floor(rng() * 7)]!
  const rate = [0, 0.02, 0.1, 0.5, 0.9, 1][Math.floor(rng() * 6)]!
  const signal = rng()
  const scores = new Float64Array(n)
  const labels = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    labels[i] = rng() < rate ? 1 : 0
    const raw = Math.min(0.999999, Math.max(0, (1 - signal) * rng() + signal * (labels[i]! === 1 ? 0.7 : 0.3) + (rng() - 0.5) * 0.2))
    scores[i] = Math.floor(raw * levels) / levels
  }
  return { scores, labels }
}

function shuffled<T extends Float64Array | Uint8Array>(rng: Rng, arrays: T[]): T[] {
  const n = arrays[0]!.length
  const perm = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    ;[perm[i], perm[j]] = [perm[j]!, perm[i]!]
  }
  return arrays.map((a) => {
    const out = a.slice() as T
    perm.forEach((from, to) => (out[to] = a[from]!))
    return out
  })
}

function expectClose(actual: number | null, expected: number | null, digits = 12) {
  if (expected === null) expect(actual).toBeNull()
  else expect(actual).toBeCloseTo(expected, digits)
}

function expectTablesClose(actual: CalibrationBin[], expected: CalibrationBin[]) {
  expect(actual.map((b) => [b.bin, b.count])).toEqual(expected.map((b) => [b.bin, b.count]))
  actual.forEach((b, i) => {
    const e = expected[i]!
    expect(b.minPredicted).toBe(e.minPredicted)
    expect(b.maxPredicted).toBe(e.maxPredicted)
    // Relative: the regression targets run to thousands, where 12 decimals is a few ulps.
    expect(Math.abs(b.meanPredicted - e.meanPredicted)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(e.meanPredicted)))
    expect(Math.abs(b.meanActual - e.meanActual)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(e.meanActual)))
  })
}

describe('rocAuc', () => {
  it('matches hand-worked cases', () => {
    // scikit-learn's doc example. Positives 0.35 and 0.8, negatives 0.1 and 0.4; of the 4 pairs
    // 0.35 > 0.1, 0.35 < 0.4, 0.8 > 0.1, 0.8 > 0.4: 3 wins / 4 = 0.75.
    expect(rocAuc(f64([0.1, 0.4, 0.35, 0.8]), u8([0, 0, 1, 1]))).toBe(0.75)
    // Ties: positives 0.5, 0.5; negatives 0.5, 0.2. Each positive ties the 0.5 negative (½) and
    // beats the 0.2 one (1): (1.5 + 1.5) / 4 = 0.75.
    expect(rocAuc(f64([0.5, 0.5, 0.5, 0.2]), u8([1, 0, 1, 0]))).toBe(0.75)
    // Perfect and reversed rankings: 1 and 0.
    expect(rocAuc(f64([0.1, 0.2, 0.8, 0.9]), u8([0, 0, 1, 1]))).toBe(1)
    expect(rocAuc(f64([0.9, 0.8, 0.2, 0.1]), u8([0, 0, 1, 1]))).toBe(0)
    // -0 and 0 are the same score: one tie, ½.
    expect(rocAuc(f64([-0, 0]), u8([1, 0]))).toBe(0.5)
  })

  it('is 0.5 when every score is tied, whatever the labels', () => {
    expect(rocAuc(f64([0.3, 0.3, 0.3, 0.3, 0.3]), u8([1, 0, 0, 1, 0]))).toBe(0.5)
  })

  it('is null when either class is empty, and on no rows', () => {
    expect(rocAuc(f64([0.1, 0.9]), u8([1, 1]))).toBeNull()
    expect(rocAuc(f64([0.1, 0.9]), u8([0, 0]))).toBeNull()
    expect(rocAuc(f64([]), u8([]))).toBeNull()
  })

  it('equals the pairwise count on 400 seeded random inputs with ties, in any row order', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const rng = mulberry32(seed)
      const { scores, labels } = randomClassification(rng, Math.floor(rng() * 150))
      const expected = naiveAuc(scores, labels)
      expectClose(rocAuc(scores, labels), expected)
      const [s2, l2] = shuffled(rng, [scores, labels])
      expectClose(rocAuc(s2 as Float64Array, l2 as Uint8Array), expected)
    }
  })
})

describe('prAuc (average precision) and positiveRate', () => {
  it('matches hand-worked cases', () => {
    // scikit-learn's doc example (average_precision_score gives 0.83…). High to low: 0.8 is a
    // positive (P 1/1, R 1/2); 0.4 a negative (R unchanged, adds nothing); 0.35 a positive (P 2/3,
    // R 2/2). AP = ½·1 + ½·⅔ = 5/6.
    expect(prAuc(f64([0.1, 0.4, 0.35, 0.8]), u8([0, 0, 1, 1]))).toBeCloseTo(5 / 6, 15)
    // Tied scores are one threshold: at 0.5 the rows 1, 0, 1 are all predicted positive together,
    // P 2/3 at R 1, so AP = 1·⅔ (not the 1·½ + ½·⅔ that splitting the tie 1, 1, 0 would give).
    expect(prAuc(f64([0.5, 0.5, 0.5, 0.2]), u8([1, 0, 1, 0]))).toBeCloseTo(2 / 3, 15)
    // A perfect ranking: P stays 1 as R climbs to 1.
    expect(prAuc(f64([0.1, 0.2, 0.8, 0.9]), u8([0, 0, 1, 1]))).toBe(1)
    // Positives ranked 2nd and 3rd of 4: P ½ at R ½, then P ⅔ at R 1: ½·½ + ½·⅔ = 7/12.
    expect(prAuc(f64([0.9, 0.8, 0.2, 0.1]), u8([0, 1, 1, 0]))).toBeCloseTo(7 / 12, 15)
  })

  it('is the positive rate when every score is tied (a constant baseline)', () => {
    const labels = u8([1, 0, 0, 1, 0])
    expect(prAuc(f64([0.3, 0.3, 0.3, 0.3, 0.3]), labels)).toBeCloseTo(2 / 5, 15)
    expect(positiveRate(labels)).toBe(2 / 5)
  })

  it('is null with no positive; 1 with no negative; positiveRate null on no rows', () => {
    expect(prAuc(f64([0.1, 0.9]), u8([0, 0]))).toBeNull()
    expect(prAuc(f64([]), u8([]))).toBeNull()
    expect(prAuc(f64([0.1, 0.9]), u8([1, 1]))).toBe(1)
    expect(positiveRate(u8([]))).toBeNull()
    expect(positiveRate(u8([0, 0]))).toBe(0)
  })

  it('equals the loop over thresholds on 400 seeded random inputs with ties, in any row order', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const rng = mulberry32(1000 + seed)
      const { scores, labels } = randomClassification(rng, Math.floor(rng() * 150))
      const expected = naiveAp(scores, labels)
      expectClose(prAuc(scores, labels), expected)
      const [s2, l2] = shuffled(rng, [scores, labels])
      expectClose(prAuc(s2 as Float64Array, l2 as Uint8Array), expected)
    }
  })
})

describe('mae, rmse, r2', () => {
  it('match a hand-worked case', () => {
    // pred 1, 2, 3 against actual 2, 2, 5: errors −1, 0, −2.
    // MAE = (1 + 0 + 2) / 3 = 1; RMSE = √((1 + 0 + 4) / 3) = √(5/3).
    // mean(actual) = 3, SStot = 1 + 1 + 4 = 6, SSres = 5, R² = 1 − 5/6 = 1/6.
    const pred = f64([1, 2, 3])
    const actual = f64([2, 2, 5])
    expect(mae(pred, actual)).toBe(1)
    expect(rmse(pred, actual)).toBeCloseTo(Math.sqrt(5 / 3), 15)
    expect(r2(pred, actual)).toBeCloseTo(1 / 6, 15)
    // Predicting the mean gives R² 0; perfect predictions 1; worse than the mean goes negative
    // (pred 5, 2, 2: SSres = 9 + 0 + 9 = 18, R² = 1 − 18/6 = −2).
    expect(r2(f64([3, 3, 3]), actual)).toBe(0)
    expect(r2(actual, actual)).toBe(1)
    expect(r2(f64([5, 2, 2]), actual)).toBe(-2)
  })

  it('r2 is null for a constant actual, even one whose mean does not round back to it', () => {
    expect(r2(f64([1, 2, 3]), f64([4, 4, 4]))).toBeNull()
    // 0.1 · 3 / 3 is not 0.1 in floating point: an SStot === 0 test would miss this.
    expect(r2(f64([0, 0, 0]), f64([0.1, 0.1, 0.1]))).toBeNull()
  })

  it('are null on no rows', () => {
    expect(mae(f64([]), f64([]))).toBeNull()
    expect(rmse(f64([]), f64([]))).toBeNull()
    expect(r2(f64([]), f64([]))).toBeNull()
  })

  it('equal plain loops on 300 seeded random inputs', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rng = mulberry32(2000 + seed)
      const n = Math.floor(rng() * 100)
      const levels = Math.floor(rng() * 20) + 1
      const actual = Float64Array.from({ length: n }, () => Math.floor(rng() * levels) * 37.5)
      const pred = Float64Array.from(actual, (a) => a + (rng() - 0.5) * 100)
      const expected = naiveRegression(pred, actual)
      expectClose(mae(pred, actual), expected.mae, 9)
      expectClose(rmse(pred, actual), expected.rmse, 9)
      expectClose(r2(pred, actual), expected.r2, 9)
    }
  })
})

describe('calibration', () => {
  it('matches a hand-worked case', () => {
    // Sorted: 0.1→0, 0.3→0, 0.5→1, 0.7→0, 0.9→1. Two bins over 5 rows cut at floor(5/2) = 2:
    // bin 1 = {0.1, 0.3}: mean prediction 0.2, rate 0; bin 2 = {0.5, 0.7, 0.9}: mean 0.7, rate 2/3.
    const table = calibration(f64([0.9, 0.1, 0.5, 0.3, 0.7]), f64([1, 0, 1, 0, 0]), 2)
    expect(table).toHaveLength(2)
    expect(table[0]).toEqual({ bin: 1, count: 2, meanPredicted: expect.closeTo(0.2, 15), meanActual: 0, minPredicted: 0.1, maxPredicted: 0.3 })
    expect(table[1]).toEqual({ bin: 2, count: 3, meanPredicted: expect.closeTo(0.7, 15), meanActual: expect.closeTo(2 / 3, 15), minPredicted: 0.5, maxPredicted: 0.9 })
  })

  it('shares a tie group straddling a boundary at the group mean', () => {
    // Sorted: 0.1→0, then the tie 0.5→{1, 1, 0} (mean ⅔) over positions 1..3; the cut is at 2.
    // Bin 1 = 0.1's 0 plus one tied row at ⅔: rate ⅓, mean prediction 0.3.
    // Bin 2 = two tied rows at ⅔: rate ⅔, mean prediction 0.5.
    const table = calibration(f64([0.5, 0.1, 0.5, 0.5]), f64([1, 0, 1, 0]), 2)
    expect(table.map((b) => b.count)).toEqual([2, 2])
    expect(table[0]!.meanActual).toBeCloseTo(1 / 3, 15)
    expect(table[0]!.meanPredicted).toBeCloseTo(0.3, 15)
    expect(table[0]!.maxPredicted).toBe(0.5)
    expect(table[1]!.meanActual).toBeCloseTo(2 / 3, 15)
    expect(table[1]!.minPredicted).toBe(0.5)
  })

  it('gives a constant prediction the overall rate in every bin, not a trend from the row order', () => {
    // Labels sorted 0…0 1…1 would make bins 0, 0, …, 1 if ties were cut by input order.
    const actual = Float64Array.from({ length: 100 }, (_, i) => (i >= 80 ? 1 : 0))
    const table = calibration(new Float64Array(100).fill(0.2), actual)
    expect(table).toHaveLength(10)
    for (const b of table) expect(b).toEqual({ bin: b.bin, count: 10, meanPredicted: 0.2, meanActual: 0.2, minPredicted: 0.2, maxPredicted: 0.2 })
  })

  it('has bins of equal count ± 1, and fewer bins (one row each) when rows are fewer than bins', () => {
    expect(calibration(new Float64Array(23), new Float64Array(23)).map((b) => b.count)).toEqual([2, 2, 2, 3, 2, 2, 3, 2, 2, 3])
    const table = calibration(f64([0.4, 0.2, 0.9]), f64([7, 3, 5]))
    expect(table).toEqual([
      { bin: 1, count: 1, meanPredicted: 0.2, meanActual: 3, minPredicted: 0.2, maxPredicted: 0.2 },
      { bin: 2, count: 1, meanPredicted: 0.4, meanActual: 7, minPredicted: 0.4, maxPredicted: 0.4 },
      { bin: 3, count: 1, meanPredicted: 0.9, meanActual: 5, minPredicted: 0.9, maxPredicted: 0.9 },
    ])
  })

  it('is empty on no rows', () => {
    expect(calibration(f64([]), f64([]))).toEqual([])
  })

  it('equals the naive table on 400 seeded random inputs with ties (labels and values), exactly the same in any row order for labels', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const rng = mulberry32(3000 + seed)
      const n = Math.floor(rng() * 120)
      const bins = [1, 2, 3, 5, 10, 20, 200][Math.floor(rng() * 7)]!
      const { scores, labels } = randomClassification(rng, n)
      const actual = seed % 2 === 0 ? Float64Array.from(labels) : Float64Array.from(scores, (s) => s * 1000 + Math.floor(rng() * 7) * 13.25)
      const table = calibration(scores, actual, bins)
      expectTablesClose(table, naiveCalibration(scores, actual, bins))
      for (const b of table) expect(b.minPredicted <= b.meanPredicted && b.meanPredicted <= b.maxPredicted).toBe(true)
      const [s2, a2] = shuffled(rng, [scores, actual])
      // With 0/1 actuals every sum is of small integers, so a reordering changes nothing at all.
      if (seed % 2 === 0) expect(calibration(s2!, a2!, bins)).toEqual(table)
      else expectTablesClose(calibration(s2!, a2!, bins), table)
    }
  })
})

describe('inputs and outputs', () => {
  it('throws a RangeError on mismatched lengths, non-finite values, labels other than 0/1, bad bins', () => {
    expect(() => rocAuc(f64([0.1, 0.2]), u8([1]))).toThrow(RangeError)
    expect(() => prAuc(f64([NaN, 0.2]), u8([1, 0]))).toThrow(RangeError)
    expect(() => rocAuc(f64([Infinity, 0.2]), u8([1, 0]))).toThrow(RangeError)
    expect(() => rocAuc(f64([0.1, 0.2]), u8([2, 0]))).toThrow(RangeError)
    expect(() => positiveRate(u8([1, 255]))).toThrow(RangeError)
    expect(() => mae(f64([1]), f64([NaN]))).toThrow(RangeError)
    expect(() => r2(f64([1, 2]), f64([1]))).toThrow(RangeError)
    expect(() => calibration(f64([1]), f64([1]), 0)).toThrow(RangeError)
    expect(() => calibration(f64([1]), f64([1]), 2.5)).toThrow(RangeError)
  })

  it('gives results that survive JSON unchanged', () => {
    const rng = mulberry32(7)
    const { scores, labels } = randomClassification(rng, 500)
    const actual = Float64Array.from(labels)
    const report = {
      auc: rocAuc(scores, labels),
      ap: prAuc(scores, labels),
      rate: positiveRate(labels),
      mae: mae(scores, actual),
      rmse: rmse(scores, actual),
      r2: r2(scores, actual),
      calibration: calibration(scores, actual),
      none: rocAuc(f64([]), u8([])),
    }
    expect(JSON.parse(JSON.stringify(report))).toEqual(report)
  })
})
