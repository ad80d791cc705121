/**
 * Not semantics: counts of the situations the bugs need, so the test can show that the
 * generated workloads reach each of them.
 */
export interface Coverage {
  /** Held events applied when the clock reached them (bug 3: an event ahead of the watermark counts early). */
  heldApplied: number
  /** ... of which only by the final move to the end time (bug 5: a replay ending at max time − lateness). */
  heldAppliedAtEnd: number
  /** Held events that feed a windowed distinct (bug 1). */
  heldDistinct: number
  /** Windowed sums whose float sum in arrival order differs from the exact one (bug 2). */
  inexactSums: number
  /** Changes at a slide-out of a window that is not 120 × its bucket size (bug 4). */
  oddWindowSlideOuts: number
  /** Late events too old for two or more windows (bug 6). */
  lateTooOldTwice: number
  /** Evaluations at the due instant of a keep that find the rule true again (bug 7). */
  keepHeldAtDue: number
  /** Exits after a keep ran out. */
  keepExits: number
  /** Changes found at a timer, with no event of the user (silent users). */
  timerChanges: number
  /** Changes found while a clock record moved the clock. */
  clockRecordChanges: number
  /** Timers of two users at the same instant, back to back (ordered by tenant:user_id). */
  timerTies: number
  /** Held events of one time released back to back (ordered by log position). */
  heldTies: number
  /** Clock moves forced by more than maxHeldEvents held events. */
  heldOverflows: number
  /** Segment changes found when a prediction was applied. */
  predictionChanges: number
  /** Predictions ignored: scored before the one the user has. */
  stalePredictions: number
  /** Predictions for a user the partition does not hold. */
  unknownPredictions: number
  /** Changes at a timer set by since(predicted.scored_at). */
  predictionTimerChanges: number
}

export function emptyCoverage(): Coverage {
  return {
    heldApplied: 0,
    heldAppliedAtEnd: 0,
    heldDistinct: 0,
    inexactSums: 0,
    oddWindowSlideOuts: 0,
    lateTooOldTwice: 0,
    keepHeldAtDue: 0,
    keepExits: 0,
    timerChanges: 0,
    clockRecordChanges: 0,
    timerTies: 0,
    heldTies: 0,
    heldOverflows: 0,
    predictionChanges: 0,
    stalePredictions: 0,
    unknownPredictions: 0,
    predictionTimerChanges: 0,
  }
}
