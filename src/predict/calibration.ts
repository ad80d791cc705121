/**
 * Calibration table: do the predictions mean what they say? Rows ordered by prediction are cut into
 * groups of equal count (deciles by default) and each group's mean prediction is set against its
 * mean actual. For a probability model actual is the 0/1 outcome, so meanActual is the observed
 * rate; for the wealth regression it is the realised value.
 */
import { ascendingOrder, checkLengths, checkValues } from './evaluate.ts'

export interface CalibrationBin {
  /** 1 for the lowest predictions up to the number of bins for the highest. */
  bin: number
  /** Rows in the bin; bins differ in count by at most one. */
  count: number
  meanPredicted: number
  /** The mean outcome: the observed rate for 0/1 labels, the mean value for a regression. */
  meanActual: number
  minPredicted: number
  maxPredicted: number
}

/**
 * The n rows sorted by prediction ascending are cut into k = min(bins, n) bins of consecutive rows,
 * bin b (0-based here) taking sorted positions floor(b·n/k) up to floor((b+1)·n/k): equal counts as
 * near as can be, larger bins spread evenly, none empty. Fewer rows than bins gives fewer bins (one
 * row each); no rows gives [].
 *
 * Ties: rows with equal predictions are interchangeable, so when a tie group straddles a bin
 * boundary, which of its rows fall on either side is not decided by their order (input order, or
 * worse, the actual value); instead each side receives its share of rows at the group's mean actual.
 * The table is then a function of the (prediction, actual) pairs alone, whatever order they come
 * in, and equals the expected table under a random tie-break. This matters for the naive baseline:
 * a constant prediction is one tie group spanning every bin, and it gets the overall rate in each
 * bin instead of a spurious trend from the row order. Counts, min and max are unaffected by ties.
 *
 * Throws a RangeError when the arrays differ in length, hold a NaN or infinite value, or bins is
 * not a positive integer.
 */
export function calibration(pred: Float64Array, actual: Float64Array, bins = 10): CalibrationBin[] {
  checkLengths(pred, actual)
  checkValues(pred, 'pred')
  checkValues(actual, 'actual')
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins is ${bins}, not a positive integer`)
  const n = pred.length
  const k = Math.min(bins, n)
  if (k === 0) return []
  // b·n stays far below 2^53 for any realistic n and bins, so the boundaries are exact.
  const boundary = (b: number) => Math.floor((b * n) / k)
  const order = ascendingOrder(pred)
  const sumPredicted = new Float64Array(k)
  const sumActual = new Float64Array(k)
  let b = 0
  for (let start = 0; start < n;) {
    const p = pred[order[start]!]!
    let end = start
    let groupSum = 0
    for (; end < n && pred[order[end]!]! === p; end++) groupSum += actual[order[end]!]!
    const groupLength = end - start
    for (let at = start; at < end;) {
      while (boundary(b + 1) <= at) b++
      const upTo = Math.min(end, boundary(b + 1))
      const length = upTo - at
      sumPredicted[b]! += length * p
      // A group wholly inside the bin adds its exact sum; a straddling one its share at the group mean.
      sumActual[b]! += length === groupLength ? groupSum : groupSum * (length / groupLength)
      at = upTo
    }
    start = end
  }
  const table: CalibrationBin[] = []
  for (let i = 0; i < k; i++) {
    const lo = boundary(i)
    const hi = boundary(i + 1)
    const count = hi - lo
    const minPredicted = pred[order[lo]!]!
    const maxPredicted = pred[order[hi - 1]!]!
    // Rounding in the sum can put the mean an ulp outside the bin's range; the clamp keeps
    // min ≤ mean ≤ max true, as a reader of the table will assume.
    const meanPredicted = Math.min(maxPredicted, Math.max(minPredicted, sumPredicted[i]! / count))
    table.push({ bin: i + 1, count, meanPredicted, meanActual: sumActual[i]! / count, minPredicted, maxPredicted })
  }
  return table
}
