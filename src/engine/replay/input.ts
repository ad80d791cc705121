import { DEFAULT_LIMITS, validateEvent, type TrackedEvent } from '../../events/index.ts'
import { SeenIds } from '../replay-ids.ts'

/** Replay keeps no future-skew bound: the file's own clock is the only clock. */
export const REPLAY_LIMITS = { ...DEFAULT_LIMITS, maxFutureMs: Number.POSITIVE_INFINITY }

/**
 * A replay has no receive time. A constant stands in for it so that nothing in an event depends on
 * the wall clock; the one thing it would decide, the time of an event without `ts`, is refused
 * instead.
 */
export const REPLAY_RECEIVED_AT = 0

/** Rejections a replay reports with their line and reason (`firstErrors`). */
export const MAX_FIRST_ERRORS = 5

/** What the input side of a replay counted: rejected lines (the first few with their reasons) and repeated ids. */
export interface InputCounts {
  rejected: number
  duplicates: number
  firstErrors: Array<{ line: number; error: string }>
}

/**
 * The input side of a replay: which lines become events. Validation as the collector validates
 * (with no server clock), `ts` required, and a repeated (tenant, event_id) skipped as the collector
 * skips it. Every line is decided here, in file order, before any engine sees it.
 */
export class ReplayInput {
  readonly counts: InputCounts = { rejected: 0, duplicates: 0, firstErrors: [] }
  private readonly seen: SeenIds
  private line = 0
  // One context object for every event: a closure per event would be an allocation per event. Ids
  // from the line number keep a replay's output identical from run to run.
  private readonly validation = { limits: REPLAY_LIMITS, serverClock: false, receivedAt: REPLAY_RECEIVED_AT, makeId: () => `line-${this.line}` }

  constructor(dedupeIds: number) {
    this.seen = new SeenIds(dedupeIds)
  }

  /** A parsed line: its event, or null when it was rejected or a repeat (counted). */
  parsed(raw: unknown, line: number): TrackedEvent | null {
    this.line = line
    const v = validateEvent(raw, this.validation)
    if (!v.ok) return this.reject(line, `${v.error.field}: ${v.error.reason}`)
    // validateEvent accepted an object, so these reads are safe.
    const { ts, event_id: clientId } = raw as { ts?: unknown; event_id?: unknown }
    if (ts === undefined || ts === null) return this.reject(line, 'ts: is required in a replay (the collector would use its receive time; a file has none)')
    // Checked after validation, as the collector does: a rejected event does not claim its id.
    if (typeof clientId === 'string' && !this.firstTime(clientId)) return null
    return v.event
  }

  /** A client event id of a valid event: true the first time, false (counted) for a repeat. */
  firstTime(clientId: string): boolean {
    if (this.seen.firstTime('default', clientId)) return true
    this.counts.duplicates++
    return false
  }

  /** Counts a line that never became an event (bad JSON, or an event refused). */
  reject(line: number, error: string): null {
    this.counts.rejected++
    if (this.counts.firstErrors.length < MAX_FIRST_ERRORS) this.counts.firstErrors.push({ line, error })
    return null
  }
}
