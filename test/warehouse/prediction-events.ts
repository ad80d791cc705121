import type { TrackedEvent } from '../../src/events/index.ts'
import { PREDICTION_EVENT } from '../../src/events/prediction.ts'

/*
 * Prediction events as the daily scoring run appends them (src/events/prediction.ts): built as
 * TrackedEvents and encoded by the codec like any event. Not through validateEvent: the event-name
 * rule refuses `$` names on purpose, so no client can send one.
 */

export interface Scores {
  purchase_7d: number | null
  churn_7d: number | null
  wealth_30d: number | null
}

let next = 0

/** One user's prediction event, scored at `ts` by `model`. */
export function predictionEvent(user: string, ts: number, scores: Scores, opts: { tenant?: string; model?: string } = {}): TrackedEvent {
  return {
    event: PREDICTION_EVENT,
    user_id: user,
    ts,
    event_id: `pred-${next++}`,
    tenant: opts.tenant ?? 'default',
    received_at: ts,
    properties: { ...scores, model_version: opts.model ?? 'm-1' },
  }
}

/** A score for user `u` that a test can recompute: in [0, 1), or null for every 5th user's wealth. */
export function scoresFor(u: number): Scores {
  return { purchase_7d: (u % 10) / 10, churn_7d: (u % 7) / 7, wealth_30d: u % 5 === 0 ? null : u * 10 }
}
