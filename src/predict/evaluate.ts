/**
 * Quality measures for the daily prediction models, computed on held-out days and reported next to
 * a naive baseline: ROC AUC and average precision for the probability models (purchase propensity,
 * churn risk), MAE / RMSE / R² for the wealth regression, and calibration deciles for both.
 *
 * Pure functions on typed arrays, so a day of a million rows costs one sort of an index array
 * (O(n log n)) and no per-row objects. Every result is a finite number, an array of plain objects of
 * finite numbers, or null where the measure is undefined (an empty class, a constant target): a
 * report serialises with JSON.stringify and never shows NaN (which JSON would silently turn to null
 * anyway, hiding which measure failed).
 *
 * Inputs are checked rather than trusted: arrays of different lengths, a score or value that is NaN
 * or infinite, or a label other than 0 and 1 throw a RangeError. A model emitting NaN is a bug to
 * surface, not a row to rank somewhere arbitrary.
 *
 * Calibration deciles are in the sibling calibration.ts, which shares this file's checks and sort.
 */

/**
 * Area under the ROC curve: the probability that a random positive scores above a random negative,
 * a tie counting one half (the Mann–Whitney U statistic over nPos·nNeg, i.e. midranks for ties).
 * 0.5 is a random scorer, and also any constant scorer. Null when either class is empty, as the
 * probability is then over an empty set of pairs.
 *
 * labels: 1 positive, 0 negative.
 */
export function rocAuc(scores: Float64Array, labels: Uint8Array): number | null {
  checkLengths(scores, labels)
  checkValues(scores, 'scores')
  const nPos = checkLabels(labels)
  const nNeg = labels.length - nPos
  if (nPos === 0 || nNeg === 0) return null
  const order = ascendingOrder(scores)
  // Walking tie groups from the lowest score up: each positive of a group beats every negative
  // already passed and ties (half a win) with the group's own negatives. The sums are integers
  // and halves below 2^53 for any realistic n, so they are exact.
  let wins = 0
  let negBelow = 0
  for (let start = 0; start < order.length;) {
    const score = scores[order[start]!]!
    let pos = 0
    let neg = 0
    let end = start
    for (; end < order.length && scores[order[end]!]! === score; end++) {
      if (labels[order[end]!] === 1) pos++
      else neg++
    }
    wins += pos * (negBelow + neg / 2)
    negBelow += neg
    start = end
  }
  return wins / (nPos * nNeg)
}

/**
 * Average precision, the area under the precision–recall curve as scikit-learn's
 * average_precision_score defines it: Σ_k (R_k − R_{k−1}) · P_k over the distinct score thresholds
 * taken from high to low, where at threshold k every row scoring ≥ it is predicted positive, R_k is
 * the recall and P_k the precision there (R_0 = 0). Tied scores form one threshold, so the result
 * does not depend on the order of tied rows. No interpolation: it is a step sum, not a trapezoid
 * (the trapezoid over-rates a scorer with a few high-confidence hits).
 *
 * A random scorer's expected average precision is the positive rate (see positiveRate), the
 * baseline to read it against. Null when there is no positive (recall is undefined); an empty
 * input has none.
 */
export function prAuc(scores: Float64Array, labels: Uint8Array): number | null {
  checkLengths(scores, labels)
  checkValues(scores, 'scores')
  const nPos = checkLabels(labels)
  if (nPos === 0) return null
  const order = ascendingOrder(scores)
  let sum = 0
  let tp = 0
  let fp = 0
  // The ascending order walked backwards is the descending order, tie groups intact.
  for (let end = order.length; end > 0;) {
    const score = scores[order[end - 1]!]!
    let start = end
    let groupTp = 0
    for (; start > 0 && scores[order[start - 1]!]! === score; start--) {
      if (labels[order[start - 1]!] === 1) groupTp++
      else fp++
    }
    tp += groupTp
    // Recall rises by groupTp / nPos at this threshold; a group of negatives only adds nothing.
    if (groupTp > 0) sum += (groupTp / nPos) * (tp / (tp + fp))
    end = start
  }
  return sum
}

/**
 * The share of positives among the labels: the expected average precision of a random scorer, and
 * the observed rate a constant classifier should predict. Null when empty.
 */
export function positiveRate(labels: Uint8Array): number | null {
  const nPos = checkLabels(labels)
  return labels.length === 0 ? null : nPos / labels.length
}

/** Mean absolute error, Σ|pred − actual| / n, in the target's unit. Null when empty. */
export function mae(pred: Float64Array, actual: Float64Array): number | null {
  checkRegression(pred, actual)
  if (pred.length === 0) return null
  let sum = 0
  for (let i = 0; i < pred.length; i++) sum += Math.abs(pred[i]! - actual[i]!)
  return sum / pred.length
}

/**
 * Root mean squared error, √(Σ(pred − actual)² / n), in the target's unit; weighs large misses more
 * than MAE does. Null when empty.
 */
export function rmse(pred: Float64Array, actual: Float64Array): number | null {
  checkRegression(pred, actual)
  if (pred.length === 0) return null
  let sum = 0
  for (let i = 0; i < pred.length; i++) sum += (pred[i]! - actual[i]!) ** 2
  return Math.sqrt(sum / pred.length)
}

/**
 * Coefficient of determination, 1 − SSres/SStot with SSres = Σ(actual − pred)² and SStot =
 * Σ(actual − mean(actual))²: the share of the target's variance the model explains on these rows.
 * 0 is predicting the held-out mean, and it goes negative for a model worse than that. Null when
 * empty or when actual is constant (SStot = 0: no variance to explain; scikit-learn returns 1 or 0
 * there, which a report would misread as a measurement).
 */
export function r2(pred: Float64Array, actual: Float64Array): number | null {
  checkRegression(pred, actual)
  const n = actual.length
  if (n === 0) return null
  // Constancy is tested on the values, not as SStot === 0: the mean of n equal values need not
  // round back to that value, which would leave a tiny SStot and a meaningless huge ratio.
  let constant = true
  let total = 0
  for (let i = 0; i < n; i++) {
    total += actual[i]!
    if (actual[i] !== actual[0]) constant = false
  }
  if (constant) return null
  const mean = total / n
  let ssRes = 0
  let ssTot = 0
  for (let i = 0; i < n; i++) {
    ssRes += (actual[i]! - pred[i]!) ** 2
    ssTot += (actual[i]! - mean) ** 2
  }
  return 1 - ssRes / ssTot
}

function checkRegression(pred: Float64Array, actual: Float64Array): void {
  checkLengths(pred, actual)
  checkValues(pred, 'pred')
  checkValues(actual, 'actual')
}

/** Throws unless the two arrays pair row for row. */
export function checkLengths(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new RangeError(`arrays differ in length: ${a.length} and ${b.length}`)
}

/** Throws on a NaN or infinite value, which no measure here can rank or average meaningfully. */
export function checkValues(values: Float64Array, name: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new RangeError(`${name}[${i}] is ${values[i]}, not a finite number`)
  }
}

/** Throws on a label other than 0 or 1 (a Uint8Array would take a 2 or a 255 silently); returns the count of 1s. */
export function checkLabels(labels: Uint8Array): number {
  let positives = 0
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!
    if (label > 1) throw new RangeError(`labels[${i}] is ${label}, not 0 or 1`)
    positives += label
  }
  return positives
}

/**
 * Row indices ordered by value, ascending, equal values by index: one comparison sort of a
 * Uint32Array, no per-row objects. The index tie-break only fixes the permutation; every measure
 * here treats a tie group as a whole, so its results do not depend on the order of tied rows. A -0
 * and a 0 compare equal here (=== too), so they form one tie group.
 */
export function ascendingOrder(values: Float64Array): Uint32Array {
  const order = new Uint32Array(values.length)
  for (let i = 0; i < order.length; i++) order[i] = i
  return order.sort((a, b) => values[a]! - values[b]! || a - b)
}
