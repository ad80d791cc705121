import type { RunConnection } from './call-gate.ts'
import { pairRowsSql, sqlText } from './features.ts'
import type { PredictOptions } from './predict-options.ts'

/** Rows of (user, cutoff) pairs: features by column, labels when the pairs had a horizon. */
export interface Dataset {
  readonly rows: number
  readonly users: string[]
  readonly cutoffs: Int32Array
  /** 1 for a held-out (evaluation) row. */
  readonly eval: Uint8Array
  /** Feature i of row r at `features[i][r]`. */
  readonly features: Float64Array[]
  readonly labels: { purchase: Float64Array; churn: Float64Array; wealth: Float64Array } | null
}

/** The cutoffs of one horizon: training [trainFrom, evalFrom), held out [evalFrom, evalTo]. */
export interface CutoffPlan {
  readonly trainFrom: number
  readonly evalFrom: number
  readonly evalTo: number
}

/**
 * The labelled cutoffs of a tenant whose history starts on day `firstDay`, for labels
 * `horizonDays` long before day `asOfDay`: null when there are too few days for one training and
 * one held-out cutoff (docs/predictions.md, "Time split").
 */
export function planCutoffs(firstDay: number, asOfDay: number, horizonDays: number, o: PredictOptions): CutoffPlan | null {
  const trainFrom = firstDay + o.minHistoryDays
  const evalTo = asOfDay - horizonDays
  const evalFrom = evalTo - o.evalDays + 1
  if (evalFrom <= trainFrom) return null
  return { trainFrom, evalFrom, evalTo }
}

/** Days of history a horizon needs: one training cutoff and `evalDays` held-out ones. */
export function daysNeeded(horizonDays: number, o: PredictOptions): number {
  return o.minHistoryDays + 1 + o.evalDays + horizonDays
}

const HASH_SPACE = 18446744073709551616

/**
 * Fills `pairs` (user_id, c, eval) with a seeded sample of the tenant's candidate pairs: each user
 * with each cutoff from the day after its first event to `lookbackDays` after its last. The sample
 * keeps a pair when a hash of (user, cutoff, seed) falls under a share chosen for about
 * `maxTrainRows` training and `maxEvalRows` held-out pairs: the same warehouse and seed pick the
 * same pairs, whatever the thread count.
 */
export async function samplePairs(conn: RunConnection, tenant: string, plan: CutoffPlan, o: PredictOptions): Promise<void> {
  const spans = `(SELECT user_id, min(d) + 1 AS lo, max(d) + ${o.lookbackDays} AS hi FROM daily WHERE tenant = ${sqlText(tenant)} GROUP BY user_id)`
  const span = (from: number, to: number) => `sum(greatest(0, least(hi, ${to}) - greatest(lo, ${from}) + 1))`
  const counts = await conn.runAndReadAll(`SELECT ${span(plan.trainFrom, plan.evalFrom - 1)}::DOUBLE, ${span(plan.evalFrom, plan.evalTo)}::DOUBLE FROM ${spans}`)
  const [train, held] = (counts.getRows()[0] ?? [0, 0]).map((v) => Number(v ?? 0))
  const share = (n: number, max: number) => (n <= max ? 2 : max / n) * HASH_SPACE
  await conn.run(`CREATE OR REPLACE TEMP TABLE pairs AS
SELECT user_id, c, c >= ${plan.evalFrom} AS eval FROM (
  SELECT user_id, unnest(range(greatest(lo, ${plan.trainFrom}), least(hi, ${plan.evalTo}) + 1)) AS c FROM ${spans}
) WHERE hash(user_id, c, ${o.seed})::DOUBLE < CASE WHEN c >= ${plan.evalFrom} THEN ${share(held ?? 0, o.maxEvalRows)} ELSE ${share(train ?? 0, o.maxTrainRows)} END`)
}

/** Fills `pairs` with every user of the tenant active in the lookback before day `cutoff`, for scoring. */
export async function scoringPairs(conn: RunConnection, tenant: string, cutoff: number, o: PredictOptions): Promise<void> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE pairs AS
SELECT user_id, ${cutoff} AS c, false AS eval FROM daily WHERE tenant = ${sqlText(tenant)} AND d < ${cutoff} GROUP BY user_id HAVING max(d) >= ${cutoff - o.lookbackDays}`)
}

function num(v: unknown): number {
  return v === null || v === undefined ? NaN : Number(v)
}

/** Rows of the pairs as they are read, before they become a Dataset. */
class PartBuilder {
  users: string[] = []
  cutoffs: number[] = []
  evals: number[] = []
  cols: number[][]
  labelCols: number[][]

  constructor(featureCount: number, labelled: boolean) {
    this.cols = Array.from({ length: featureCount }, () => [])
    this.labelCols = labelled ? [[], [], []] : []
  }

  build(): Dataset {
    const l = this.labelCols
    return {
      rows: this.users.length,
      users: this.users,
      cutoffs: Int32Array.from(this.cutoffs),
      eval: Uint8Array.from(this.evals),
      features: this.cols.map((c) => Float64Array.from(c)),
      labels: l.length === 0 ? null : { purchase: Float64Array.from(l[0]!), churn: Float64Array.from(l[1]!), wealth: Float64Array.from(l[2]!) },
    }
  }
}

/**
 * Reads the pairs' rows (pairRowsSql) chunk by chunk into column arrays, handing them over as a
 * Dataset every `partRows` rows (and the rest at the end): scoring a tenant of any size holds one
 * part, not every user's features at once.
 */
export async function streamPairs(
  conn: RunConnection,
  tenant: string,
  featureCount: number,
  o: PredictOptions,
  horizonDays: number | null,
  partRows: number,
  onPart: (part: Dataset) => Promise<void>,
): Promise<void> {
  const result = await conn.stream(pairRowsSql(o, tenant, horizonDays))
  let part = new PartBuilder(featureCount, horizonDays !== null)
  for (;;) {
    const chunk = await result.fetchChunk()
    if (!chunk || chunk.rowCount === 0) break
    const u = chunk.getColumnVector(0)
    const c = chunk.getColumnVector(1)
    const e = chunk.getColumnVector(2)
    const fv = part.cols.map((_, i) => chunk.getColumnVector(3 + i))
    const lv = part.labelCols.map((_, i) => chunk.getColumnVector(3 + featureCount + i))
    for (let r = 0; r < chunk.rowCount; r++) {
      part.users.push(String(u.getItem(r)))
      part.cutoffs.push(num(c.getItem(r)))
      part.evals.push(e.getItem(r) === true ? 1 : 0)
      for (let i = 0; i < fv.length; i++) {
        const x = num(fv[i]!.getItem(r))
        part.cols[i]!.push(Number.isFinite(x) ? x : 0)
      }
      for (let i = 0; i < lv.length; i++) part.labelCols[i]!.push(num(lv[i]!.getItem(r)))
    }
    if (part.users.length >= partRows) {
      await onPart(part.build())
      part = new PartBuilder(featureCount, horizonDays !== null)
    }
  }
  if (part.users.length > 0) await onPart(part.build())
}

/** Reads every pair's row into one Dataset (training: the pairs are a bounded sample). */
export async function readPairs(conn: RunConnection, tenant: string, featureCount: number, o: PredictOptions, horizonDays: number | null): Promise<Dataset> {
  let all: Dataset | null = null
  await streamPairs(conn, tenant, featureCount, o, horizonDays, Infinity, async (part) => {
    all = part
  })
  return all ?? new PartBuilder(featureCount, horizonDays !== null).build()
}
