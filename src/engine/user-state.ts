import { fromMicros } from './metrics/exact-sum.ts'
import type { MetricState } from './metrics/metric-state.ts'

import type { ProfileProperty } from '../rules/index.ts'
import type { TraitValue } from './custom-traits.ts'

/**
 * A user's latest prediction (docs/predictions.md; predicted-traits.ts applies them): the
 * `predicted.*` traits. A score is null when that day's run did not publish its model, so an older
 * run's value is not shown as current.
 */
export interface Prediction {
  purchase_7d: number | null
  churn_7d: number | null
  wealth_30d: number | null
  model_version: string | null
  /** The prediction event's `ts`, epoch ms: which of two predictions is the latest. */
  scored_at: number
}

/** What a person knows of each id it named (UserState.links; identity-links.ts). */
export const LINK = { pending: 0, linked: 1, refused: 2 } as const
export type LinkState = (typeof LINK)[keyof typeof LINK]

/**
 * Everything the engine keeps for one user. Kept flat and small: with a 2h window of 1-minute
 * buckets a slots player costs one 121-slot count ring plus a few numbers.
 */
export class UserState {
  firstSeen = Infinity
  lastSeen = -Infinity
  eventCount = 0
  /** total_purchases in whole millionths (metrics/exact-sum.ts). */
  purchaseMicros = 0
  profile: Partial<Record<ProfileProperty, string>> = {}
  /** Event time of each profile value: the latest event time wins, not the latest processed. */
  profileAt: Partial<Record<ProfileProperty, number>> | null = null
  /** Declared property traits (rules file `traits:`) by name; null until the first one is set. */
  custom: Record<string, TraitValue> | null = null
  /** Event time of each declared trait's value. */
  customAt: Record<string, number> | null = null
  /** The latest prediction (predicted.* traits, predicted-traits.ts); null until the first. */
  predicted: Prediction | null = null
  /** Events per name, lifetime, indexed by eventNameId(). */
  counts: number[] = []
  /** By metric index of the current rules. */
  metrics: Array<MetricState | undefined>
  /** By segment index: when the user entered (NaN = not a member). */
  since: number[]
  /** By segment index: when the condition was first found false while a member (keep), or NaN. */
  falseSince: number[]
  /**
   * Set on the row an identity merge leaves behind for an absorbed id (PartitionEngine.release):
   * the person it now belongs to. Such a row holds nothing else.
   */
  redirectTo: string | null = null
  /**
   * Seen only with events that carry no user id (anonymous_id alone): such an id can be absorbed
   * into a person; a user id never is (docs/identity.md).
   */
  anonymous = false
  /** A person's other ids and where each link stands (identity-links.ts); null until the first. */
  links: Map<string, LinkState> | null = null
  /** Changes emitted for this user so far: the `version` of the next change record. */
  version = 0
  /** Time of this user's pending timer, or Infinity. */
  timerAt = Infinity
  /** Segments the user is in: lets the hot path skip timer work for the many users in none. */
  memberships = 0
  /** Summed a negative value at some point (see PartitionEngine.schedule). */
  negative = false
  /** Erased (docs/privacy.md): the next checkpoint deletes its row. */
  erased = false
  /** See DirtyUsers (dirty-users.ts). */
  dirtyEpoch = 0
  activeEpoch = 0

  constructor(
    readonly key: string,
    readonly tenant: string,
    readonly userId: string,
    metricCount: number,
    segmentCount: number,
  ) {
    this.metrics = new Array<MetricState | undefined>(metricCount)
    this.since = new Array<number>(segmentCount).fill(NaN)
    this.falseSince = new Array<number>(segmentCount).fill(NaN)
  }

  /** False for an index the user's rules do not have (−1: a segment another rule set names). */
  isMember(segment: number): boolean {
    const since = this.since[segment]
    return since !== undefined && !Number.isNaN(since)
  }

  get totalPurchases(): number {
    return fromMicros(this.purchaseMicros)
  }

  /**
   * Takes a profile value seen at event time `ts` if it is the latest: the greatest event time
   * wins, at equal times the greater string, so arrival order never changes the result.
   */
  setProfile(key: ProfileProperty, value: string, ts: number): void {
    const times = (this.profileAt ??= {})
    const at = times[key]
    if (at === undefined || ts > at || (ts === at && value > this.profile[key]!)) {
      this.profile[key] = value
      times[key] = ts
    }
  }

  /** As setProfile, for a declared trait: the latest event time wins, at equal times the greater value (one trait has one type). */
  setCustom(name: string, value: TraitValue, ts: number): void {
    // Null-prototype records: trait names are checked at rule load, but a record that cannot
    // inherit anything needs no such care.
    const values = (this.custom ??= Object.create(null) as Record<string, TraitValue>)
    const times = (this.customAt ??= Object.create(null) as Record<string, number>)
    const at = times[name]
    if (at === undefined || ts > at || (ts === at && value > values[name]!)) {
      values[name] = value
      times[name] = ts
    }
  }

  countOf(eventId: number): number {
    return this.counts[eventId] ?? 0
  }
}
