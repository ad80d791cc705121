/**
 * A workload: rules, engine settings and the input of every partition's log (events and clock
 * records, in log order). Both the engine and the reference run it; see run.ts.
 */
import { PREDICTION, type RefEvent, type RefOptions } from './reference-engine.ts'
import type { PrintStyle, RuleSet } from './rule-model.ts'

export type Input =
  | { kind: 'event'; event: RefEvent }
  /** A clock record carrying watermark `t`, in the log of one partition, or of every partition (null). */
  | { kind: 'clock'; t: number; partition: number | null }

export interface Workload {
  /** The generator's seed, or a name for a hand-written case. */
  name: string
  options: Pick<RefOptions, 'allowedLatenessMs' | 'bucketsPerWindow' | 'newUserMs'> & Partial<Pick<RefOptions, 'maxHeldEvents'>>
  partitions: number
  rules: RuleSet
  /** How the rules are spelled for the engine; keys in `values` never depend on it. */
  style: PrintStyle
  inputs: Input[]
  /** Replay's `--as-of`: events after it are skipped and the run ends there. */
  asOf?: number
}

/**
 * Event times start at BASE, a multiple of every bucket size the generator can produce
 * (2^5 · 3 · 5^4 · 7 · 13 ms divides 8, 56, 80, 104, 250, 500, 1 000, 1 250, 1 625, 1 750, 2 500,
 * 3 250, 15 000, 30 000, 60 000, …): in a printed repro `+10000` is visibly a bucket boundary.
 */
export const ALIGN = 2 ** 5 * 3 * 5 ** 4 * 7 * 13
export const BASE = Math.ceil(Date.UTC(2026, 10, 1) / ALIGN) * ALIGN

/**
 * The end of the run, final on every partition: the latest event time of the whole input ("else the
 * latest event time of the whole file"), or the latest clock record if one went further (a replay has
 * none; in live mode nothing is final, so ending at a clock below the watermark would mean nothing).
 */
export function endTime(w: Workload): number {
  if (w.asOf !== undefined) return w.asOf
  let end = -Infinity
  for (const i of w.inputs) end = Math.max(end, i.kind === 'event' ? i.event.ts : i.t)
  return end
}

/** The workload without its prediction events: a replay's file cannot hold one (the event-name rule refuses `$`). */
export function withoutPredictions(w: Workload): Workload {
  return { ...w, inputs: w.inputs.filter((i) => i.kind !== 'event' || i.event.event !== PREDICTION) }
}

/** The inputs that are read: with an as-of, later events are skipped ("Events after --as-of are skipped"). */
export function readInputs(w: Workload): Input[] {
  const asOf = w.asOf
  return asOf === undefined ? w.inputs : w.inputs.filter((i) => i.kind !== 'event' || i.event.ts <= asOf)
}
