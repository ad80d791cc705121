/**
 * Prediction events and the rules that read them, for generated workloads (generate.ts): the
 * daily scoring run's `$prediction` events (docs/engine.md, "Traits") and conditions on the
 * predicted.* traits.
 */
import type { Prng } from './prng.ts'
import { PREDICTION, type RefEvent } from './reference-engine.ts'
import type { CmpOp, Cond, PredictedTrait, Term } from './rule-model.ts'
import { BASE } from './workload.ts'

/** What generating predictions needs of the generator's state. */
export interface PredictionGen {
  rng: Prng
  scale: { since: number[] }
  windows: number[]
}

const COUNTRIES = ['TR', 'DE', ''] as const

/** A condition on a predicted trait: the scores against thresholds, the model version, since(predicted.scored_at). */
export function predictedAtom(g: PredictionGen): Cond {
  const r = g.rng
  const trait = (name: PredictedTrait): Term => ({ kind: 'trait', name })
  const num = (value: number): Term => ({ kind: 'number', value })
  const someOp = () => r.pick<CmpOp>(['>', '>=', '<', '<=', '=', '!='])
  const choices: Array<() => Cond> = [
    () => ({ kind: 'cmp', op: someOp(), left: trait('predicted.churn_7d'), right: num(r.pick([0.7, 0.5, 0.9])) }),
    () => ({ kind: 'cmp', op: someOp(), left: trait('predicted.purchase_7d'), right: num(r.pick([0.2, 0.5])) }),
    () => ({ kind: 'cmp', op: someOp(), left: trait('predicted.wealth_30d'), right: num(r.pick([10, 100])) }),
    () => ({ kind: 'in', operand: trait('predicted.model_version'), values: [{ kind: 'string', value: 'm2' }], negated: r.chance(0.3) }),
    () => ({ kind: 'cmp', op: r.pick<CmpOp>(['>', '>=', '<', '<=']), left: { kind: 'since', trait: 'predicted.scored_at' }, right: { kind: 'duration', ms: r.pick(g.scale.since) } }),
    () => ({ kind: 'cmp', op: someOp(), left: trait('predicted.scored_at'), right: num(BASE + r.int(0, 3 * Math.max(...g.windows))) }),
  ]
  return r.pick(choices)()
}

/**
 * A prediction event's properties: scores that are numbers, null, a numeric string or missing (all
 * but numbers clear the trait), a model version or not, and properties of activity (country,
 * amount) that a prediction must not set.
 */
function predictionProperties(r: Prng): Record<string, unknown> {
  const p: Record<string, unknown> = {}
  for (const [name, scale] of [
    ['purchase_7d', 1],
    ['churn_7d', 1],
    ['wealth_30d', 100],
  ] as const) {
    const v = r.weighted<unknown>([
      [6, r.pick([0, 0.1, 0.2, 0.5, 0.7, 0.71, 0.9, 1]) * scale],
      [1, null],
      [1, '0.9'],
      [1, undefined],
    ])
    if (v !== undefined) p[name] = v
  }
  const version = r.weighted<unknown>([
    [4, r.pick(['m1', 'm2'])],
    [1, 7],
    [1, undefined],
  ])
  if (version !== undefined) p.model_version = version
  if (r.chance(0.2)) p.country = r.pick(COUNTRIES)
  if (r.chance(0.1)) p.amount = 10
  return p
}

/**
 * A prediction of `u`, written now (at the cursor: its arrival), scored at about now: ahead of the
 * clock, behind it, at the time of the user's previous prediction (one run, one instant), or at an
 * activity time; now and then for an id the partition never sees. `mine` (the user's times, which
 * aim later events at since() thresholds) and `scored` (the last scored_at per user) are updated.
 */
export function draftPrediction(
  g: PredictionGen,
  u: { tenant: string; user_id: string },
  cursor: number,
  maxWindow: number,
  mine: number[],
  scored: Map<string, number>,
  n: number,
): { e: RefEvent; n: number; at: number } {
  const r = g.rng
  const who = r.chance(0.15) ? { tenant: u.tenant, user_id: 'ghost' } : u
  const previous = scored.get(`${who.tenant}:${who.user_id}`)
  const ts = Math.max(
    BASE,
    r.weighted([
      [3, cursor],
      [2, cursor + r.int(0, maxWindow)],
      [2, cursor - r.int(0, maxWindow)],
      [2, previous ?? cursor],
      [1, mine.length > 0 ? r.pick(mine) : cursor],
    ]),
  )
  scored.set(`${who.tenant}:${who.user_id}`, ts)
  if (who === u) mine.push(ts)
  return { e: { event: PREDICTION, user_id: who.user_id, tenant: who.tenant, ts, event_id: `e${n}`, properties: predictionProperties(r) }, n, at: cursor }
}
