import LogisticRegression from 'ml-logistic-regression'
import { EigenvalueDecomposition, Matrix } from 'ml-matrix'
import MultivariateLinearRegression from 'ml-regression-multivariate-linear'

/*
 * The models (docs/predictions.md, "Models"): mljs's logistic regression for the two
 * probabilities and its multivariate linear regression for wealth, both on standardised features.
 * A fitted model is stored as plain numbers (a run record is JSON) and scored from them: σ(w·x + b)
 * and w·x + b, so scoring a million users needs no matrix per row.
 */

/** A fitted model: what scoring needs. */
export interface FittedModel {
  readonly kind: 'logistic' | 'linear'
  /** Feature names, in the order of `weights`. */
  readonly features: readonly string[]
  /** Standardisation: (x − mean) / scale. */
  readonly means: readonly number[]
  readonly scales: readonly number[]
  readonly weights: readonly number[]
  readonly intercept: number
  /** linear: predicts the change of this feature (wealth), added back to it; null: the value itself. */
  readonly offsetFeature: string | null
  /**
   * linear with an offset: `log` fits ln(1 + target) − ln(1 + offset), the relative change (wealth
   * moves by bets that are a share of the wallet, and a purchase is a jump: a least-squares fit of
   * the absolute change chases the jumps, and its MAE lost to carrying the value forward);
   * `absolute` fits target − offset. Absent: absolute.
   */
  readonly change?: 'log' | 'absolute'
  /** log change: the fit is kept within the training rows' log ratios [min, max]. */
  readonly range?: readonly [number, number]
  /** linear: predictions below this are raised to it (0 when no training target was negative: wealth is never below 0). */
  readonly lowerBound?: number | null
  /** logistic: gradient steps and their rate. */
  readonly steps?: number
  readonly learningRate?: number
}

/** Means and scales of the chosen rows (scale 1 for a constant feature, so it standardises to 0). */
function standardisation(cols: readonly Float64Array[], rows: ArrayLike<number>): { means: number[]; scales: number[] } {
  const means: number[] = []
  const scales: number[] = []
  for (const col of cols) {
    let s = 0
    for (let i = 0; i < rows.length; i++) s += col[rows[i]!]!
    const mean = rows.length > 0 ? s / rows.length : 0
    let v = 0
    for (let i = 0; i < rows.length; i++) v += (col[rows[i]!]! - mean) ** 2
    const sd = rows.length > 1 ? Math.sqrt(v / (rows.length - 1)) : 0
    means.push(mean)
    scales.push(sd > 1e-12 ? sd : 1)
  }
  return { means, scales }
}

/** The standardised rows as a matrix, with a last column of ones when `bias`. */
function design(cols: readonly Float64Array[], rows: ArrayLike<number>, means: readonly number[], scales: readonly number[], bias: boolean): Matrix {
  const m = new Matrix(rows.length, cols.length + (bias ? 1 : 0))
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!
    for (let j = 0; j < cols.length; j++) m.set(i, j, (cols[j]![r]! - means[j]!) / scales[j]!)
    if (bias) m.set(i, cols.length, 1)
  }
  return m
}

/**
 * A whitening of the standardised features: W (d × k) such that the columns of X·W are uncorrelated
 * with unit variance, over the k directions whose variance is not negligible. Gradient descent is
 * slow along directions of small variance (recency, active days and events are strongly
 * correlated): after whitening every direction has the same curvature bound, so a fixed number of
 * steps at one rate converges, and collinear features (a constant one) drop out.
 */
function whitening(x: Matrix): Matrix {
  const gram = x.transpose().mmul(x).div(Math.max(x.rows, 1))
  const evd = new EigenvalueDecomposition(gram, { assumeSymmetric: true })
  const values = evd.realEigenvalues
  const vectors = evd.eigenvectorMatrix
  const top = Math.max(...values, 0)
  const keep = values.map((v, i) => [v, i] as const).filter(([v]) => v > top * 1e-9 && v > 0)
  const w = new Matrix(x.columns, Math.max(keep.length, 1))
  keep.forEach(([v, i], k) => {
    for (let j = 0; j < x.columns; j++) w.set(j, k, vectors.get(j, i) / Math.sqrt(v))
  })
  return w
}

/**
 * Fits P(label = 1) on the chosen rows by mljs's logistic regression (batch gradient descent,
 * `steps` steps). Null when the rows hold only one outcome: nothing to learn.
 */
export function fitLogistic(names: readonly string[], cols: readonly Float64Array[], labels: Float64Array, rows: ArrayLike<number>, steps: number): FittedModel | null {
  let positives = 0
  for (let i = 0; i < rows.length; i++) if (labels[rows[i]!] === 1) positives++
  if (positives === 0 || positives === rows.length) return null
  const { means, scales } = standardisation(cols, rows)
  const x = design(cols, rows, means, scales, false)
  const white = whitening(x)
  const z = x.mmul(white)
  z.addColumn(new Array<number>(z.rows).fill(1))
  const y = Matrix.columnVector(Array.from(rows, (r) => labels[r]!))
  // Whitened columns (and the bias) have unit mean square: the loss's curvature is at most n / 4
  // in every direction, so a step of 4 / n is the largest that cannot diverge.
  const learningRate = 4 / rows.length
  const lr = new LogisticRegression({ numSteps: steps, learningRate })
  lr.train(z, y)
  // Two classes train two one-versus-rest models; the first is "not class 0", that is P(label = 1).
  const wz = lr.classifiers[0]!.weights.to1DArray()
  // Back to the standardised features: w = W · w_z.
  const weights = white.mmul(Matrix.columnVector(wz.slice(0, white.columns))).to1DArray()
  return { kind: 'logistic', features: [...names], means, scales, weights, intercept: wz[white.columns]!, offsetFeature: null, steps, learningRate }
}

/** One least-squares fit of `y` (one value per chosen row) on the standardised features, with an intercept. */
function leastSquares(x: Matrix, y: readonly number[]): { weights: number[]; intercept: number } {
  const mlr = new MultivariateLinearRegression(x, Matrix.columnVector([...y]), { intercept: true, statistics: false })
  const w = mlr.weights.map((row) => row[0]!)
  return { weights: w.slice(0, x.columns), intercept: w[x.columns]! }
}

/**
 * Fits the target's change from the offset feature (or the target itself when `offset` is null) by
 * least squares with an intercept (mljs's multivariate linear regression; its SVD inverse tolerates
 * collinear features such as a constant one). With an offset and no negative values, both forms
 * of change are fitted (FittedModel.change) and the one with the lower MAE on the training rows is
 * kept; the held-out days never take part in the choice.
 */
export function fitLinear(names: readonly string[], cols: readonly Float64Array[], target: Float64Array, rows: ArrayLike<number>, offset: string | null): FittedModel {
  const { means, scales } = standardisation(cols, rows)
  const x = design(cols, rows, means, scales, false)
  const off = offset === null ? null : cols[names.indexOf(offset)]!
  let negative = false
  for (let i = 0; i < rows.length && !negative; i++) negative = target[rows[i]!]! < 0 || (off !== null && off[rows[i]!]! < 0)
  const base = { kind: 'linear', features: [...names], means, scales, offsetFeature: offset, lowerBound: negative ? null : 0 } as const
  const absolute: FittedModel = {
    ...base,
    change: 'absolute',
    ...leastSquares(
      x,
      Array.from(rows, (r) => target[r]! - (off === null ? 0 : off[r]!)),
    ),
  }
  if (off === null || negative) return absolute
  const ratios = Array.from(rows, (r) => Math.log1p(target[r]!) - Math.log1p(off[r]!))
  // A linear fit of log ratios can reach far past any ratio it saw; e^fit then explodes. Kept within them.
  let lo = Infinity
  let hi = -Infinity
  // A loop, not Math.min(...ratios): --max-train-rows allows more rows than a call takes arguments.
  for (const v of ratios) {
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  const log: FittedModel = { ...base, change: 'log', ...leastSquares(x, ratios), range: [lo, hi] }
  return trainingMae(log, cols, target, rows) < trainingMae(absolute, cols, target, rows) ? log : absolute
}

function trainingMae(m: FittedModel, cols: readonly Float64Array[], target: Float64Array, rows: ArrayLike<number>): number {
  const score = scorer(m, cols)
  let s = 0
  for (let i = 0; i < rows.length; i++) s += Math.abs(score(rows[i]!) - target[rows[i]!]!)
  return s / Math.max(1, rows.length)
}

/**
 * The model's score of row r of the columns (in the model's feature order). What does not change
 * from row to row (the offset's column, the bounds) is looked up once: scoring runs per user.
 */
export function scorer(m: FittedModel, cols: readonly Float64Array[]): (r: number) => number {
  const linear = (r: number) => {
    let z = m.intercept
    for (let j = 0; j < m.weights.length; j++) z += (m.weights[j]! * (cols[j]![r]! - m.means[j]!)) / m.scales[j]!
    return z
  }
  if (m.kind === 'logistic') return (r) => 1 / (1 + Math.exp(-linear(r)))
  const offset = m.offsetFeature === null ? null : cols[m.features.indexOf(m.offsetFeature)]!
  const [lo, hi] = m.range ?? [-Infinity, Infinity]
  const floor = m.lowerBound ?? -Infinity
  if (offset === null) return (r) => Math.max(floor, linear(r))
  if (m.change === 'log') return (r) => Math.max(floor, (1 + offset[r]!) * Math.exp(Math.min(hi, Math.max(lo, linear(r)))) - 1)
  return (r) => Math.max(floor, linear(r) + offset[r]!)
}

/** Scores of the chosen rows. */
export function scoreRows(m: FittedModel, cols: readonly Float64Array[], rows: ArrayLike<number>): Float64Array {
  const score = scorer(m, cols)
  const out = new Float64Array(rows.length)
  for (let i = 0; i < rows.length; i++) out[i] = score(rows[i]!)
  return out
}
