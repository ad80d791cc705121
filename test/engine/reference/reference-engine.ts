/**
 * A brute-force reading of docs/engine.md ("Time", "Windows", "Entering and leaving", "Traits",
 * "Output records") for one partition. Nothing here is incremental: each user keeps the list of the
 * events applied to them, every aggregate and trait is recomputed by scanning that list, and the
 * evaluation instants are enumerated from scratch after every evaluation. Slow, but each function
 * can be checked against one sentence of the docs. It shares no code with src/engine (only the
 * output record types).
 */
import type { AggSpec, Cond, RuleSet, TraitName } from './rule-model.ts'
import { aggKey, aggregatesOf, sinceThresholds } from './rule-model.ts'
import type { Notification, SegmentChange } from '../../../src/engine/records.ts'
import { emptyCoverage, type Coverage } from './coverage.ts'
import { aggregateValue, holds, inWindow, millionths, passes, readPath, slideOut, windowShape, type Scope, type Shape, type Value } from './values.ts'

export { emptyCoverage, type Coverage } from './coverage.ts'
export { holds, inWindow, readPath, slideOut, windowShape, type Shape } from './values.ts'

export interface RefEvent {
  event: string
  user_id: string
  ts: number
  event_id: string
  tenant: string
  properties: Record<string, unknown>
}

/** The daily scoring run's event (docs/engine.md, "Traits": prediction events). */
export const PREDICTION = '$prediction'

export interface RefOptions {
  allowedLatenessMs: number
  maxHeldEvents: number
  bucketsPerWindow: number
  newUserMs: number
  purchaseEvents: readonly string[]
  purchaseAmountField: string
}

export const REF_DEFAULTS: RefOptions = {
  allowedLatenessMs: 0,
  maxHeldEvents: 1_000_000,
  bucketsPerWindow: 120,
  newUserMs: 24 * 3_600_000,
  purchaseEvents: ['purchase', 'in_app_purchase', 'approved_purchase'],
  purchaseAmountField: 'amount',
}

/**
 * The output records are the documented contract (docs/engine.md, "Output records"): the reference
 * produces the engine's record types, which is all it takes from src/.
 */
export type RefChange = SegmentChange
export type RefNotification = Notification

// ---------------------------------------------------------------------------------------------
// One user.

const PROFILE_TRAITS = new Set<TraitName>(['country', 'language', 'user_agent', 'referrer', 'host'])

interface Membership {
  member: boolean
  /** F: when the member's condition was first found false (keep), or null. */
  falseSince: number | null
}

class RefUser {
  readonly applied: RefEvent[] = []
  /** Prediction events taken, in log order: not activity, read only by the predicted.* traits. */
  readonly predictions: RefEvent[] = []
  memberships: Membership[]
  version = 0
  /** Next instant after the last evaluation at which something could change, or Infinity. */
  timerAt = Infinity

  constructor(
    readonly tenant: string,
    readonly userId: string,
    segments: number,
  ) {
    this.memberships = Array.from({ length: segments }, () => ({ member: false, falseSince: null }))
  }

  get key(): string {
    return `${this.tenant}:${this.userId}`
  }
}

export interface PartitionResult {
  changes: RefChange[]
  notifications: RefNotification[]
  late: number
  lateDropped: number
  /** Prediction events applied, and dropped (no such user, or scored before the user's latest). */
  predictions: number
  predictionsDropped: number
  /** Per segment: `tenant:user_id` of the members at the end, sorted. */
  members: string[][]
  /** Reference only. */
  coverage?: Coverage
}

export class ReferencePartition {
  /** The watermark W. */
  private W = -Infinity
  private readonly held: Array<{ e: RefEvent; position: number }> = []
  private position = 0
  private readonly users = new Map<string, RefUser>()
  private readonly options: RefOptions
  /** Every window shape any rule uses: each applied event slides out of each at a known instant. */
  private readonly shapes: Shape[]
  private readonly windowed: Array<{ agg: AggSpec; shape: Shape }>
  readonly changes: RefChange[] = []
  readonly notifications: RefNotification[] = []
  late = 0
  lateDropped = 0
  predictions = 0
  predictionsDropped = 0
  readonly coverage = emptyCoverage()
  /** What is moving the clock, for coverage only. */
  private mover: 'event' | 'clock record' | 'end' = 'event'
  /** The last thing the clock processed, for coverage only. */
  private last: { kind: 'held' | 'timer'; at: number; key: string } | null = null

  constructor(
    readonly rules: RuleSet,
    options: Partial<RefOptions> = {},
  ) {
    this.options = { ...REF_DEFAULTS, ...options }
    const all = new Map<string, AggSpec>()
    for (const s of rules.segments) aggregatesOf(s.when, all)
    for (const t of rules.triggers) aggregatesOf(t.when, all)
    this.windowed = [...all.values()].filter((a) => a.windowMs !== null).map((agg) => ({ agg, shape: this.shape(agg) }))
    this.shapes = this.windowed.map((w) => w.shape)
  }

  /** An event read from the log. */
  process(e: RefEvent): void {
    if (e.event === PREDICTION) return this.predict(e)
    // "Reading an event with time ts sets W = max(W, ts − L)", which processes what is due first.
    this.moveClock(Math.max(this.W, e.ts - this.options.allowedLatenessMs), false)
    if (e.ts > this.W) {
      this.held.push({ e, position: this.position++ })
      // "Beyond maxHeldEvents the clock is moved forward to release the earliest."
      if (this.held.length > this.options.maxHeldEvents) {
        this.coverage.heldOverflows++
        this.moveClock(Math.min(...this.held.map((h) => h.e.ts)), false)
      }
      return
    }
    if (e.ts < this.W) {
      this.late++
      // "Too old for at least one of the windows it feeds": its bucket has already left the window at W.
      const tooOld = this.windowed.filter(({ agg, shape }) => passes(agg, e) && !inWindow(e.ts, this.W, shape))
      if (tooOld.length > 0) this.lateDropped++
      if (tooOld.length > 1) this.coverage.lateTooOldTwice++
    }
    this.apply(e, this.W)
  }

  /**
   * docs/engine.md, "Traits": a prediction "is not activity: it moves no clock and is never held;
   * it is applied at once, at the watermark", "the latest scored_at wins", "a prediction for a user
   * the partition does not hold is dropped"; then the user's segments are evaluated at the
   * watermark and its timer set, as after an event. No trigger fires.
   */
  private predict(e: RefEvent): void {
    const user = this.users.get(`${e.tenant}:${e.user_id}`)
    const latest = user === undefined ? undefined : this.latestPrediction(user)
    if (user === undefined || (latest !== undefined && e.ts < latest.ts)) {
      this.predictionsDropped++
      if (user === undefined) this.coverage.unknownPredictions++
      else this.coverage.stalePredictions++
      return
    }
    this.predictions++
    user.predictions.push(e)
    const before = this.changes.length
    this.evaluate(user, this.W)
    this.schedule(user, this.W)
    this.coverage.predictionChanges += this.changes.length - before
  }

  /** The prediction with the greatest ts; at equal ts the last one taken. */
  private latestPrediction(user: RefUser): RefEvent | undefined {
    let best: RefEvent | undefined
    for (const p of user.predictions) if (best === undefined || p.ts >= best.ts) best = p
    return best
  }

  /** A clock record (final = false) or the end of a replay (final = true). */
  advanceTo(t: number, final: boolean): void {
    this.mover = final ? 'end' : 'clock record'
    this.moveClock(Math.max(this.W, t), final)
    this.mover = 'event'
  }

  result(): PartitionResult {
    const members = this.rules.segments.map((_, i) =>
      [...this.users.values()]
        .filter((u) => u.memberships[i]!.member)
        .map((u) => u.key)
        .sort(),
    )
    return {
      changes: this.changes,
      notifications: this.notifications,
      late: this.late,
      lateDropped: this.lateDropped,
      predictions: this.predictions,
      predictionsDropped: this.predictionsDropped,
      members,
      coverage: this.coverage,
    }
  }

  /**
   * "Moving the clock from W to W′ processes, in time order, the held events with ts ≤ W′ and the
   * timers due strictly before W′; at equal times held events come first, timers among themselves by
   * (at, tenant:user_id)." A final move fires the timers at W′ too.
   */
  private moveClock(target: number, final: boolean): void {
    for (;;) {
      const held = this.nextHeld(target)
      const timer = this.nextTimer(target, final)
      if (held === null && timer === null) break
      const before = this.changes.length
      if (held !== null && (timer === null || held.e.ts <= timer.timerAt)) {
        this.held.splice(this.held.indexOf(held), 1)
        this.countHeld(held.e)
        this.apply(held.e, held.e.ts)
      } else if (timer !== null) {
        const T = timer.timerAt
        this.evaluate(timer, T)
        this.schedule(timer, T)
        this.countTimer(timer, T, this.changes.length - before)
      }
      if (this.mover === 'clock record') this.coverage.clockRecordChanges += this.changes.length - before
    }
    this.W = target
  }

  private nextHeld(target: number): { e: RefEvent; position: number } | null {
    let best: { e: RefEvent; position: number } | null = null
    for (const h of this.held) {
      if (h.e.ts > target) continue
      if (best === null || h.e.ts < best.e.ts || (h.e.ts === best.e.ts && h.position < best.position)) best = h
    }
    return best
  }

  private nextTimer(target: number, final: boolean): RefUser | null {
    let best: RefUser | null = null
    for (const u of this.users.values()) {
      const due = final ? u.timerAt <= target : u.timerAt < target
      if (!due) continue
      if (best === null || u.timerAt < best.timerAt || (u.timerAt === best.timerAt && u.key < best.key)) best = u
    }
    return best
  }

  /** "Update the user's traits and aggregates, evaluate the user's segments at T, then test the event's triggers at T." */
  private apply(e: RefEvent, T: number): void {
    const user = this.user(e.tenant, e.user_id)
    user.applied.push(e)
    this.evaluate(user, T)
    for (const t of this.rules.triggers) {
      if (t.on !== e.event) continue
      if (t.when !== null && !holds(t.when, this.scope(user, T, e.properties))) continue
      this.notifications.push({
        trigger: t.name,
        emit: t.emit,
        tenant: e.tenant,
        user_id: e.user_id,
        event: e.event,
        event_id: e.event_id,
        // records.ts: "Event time of the triggering event" (T only differs for a late event).
        at: e.ts,
        properties: e.properties,
        values: this.values(t.when, user, T),
      })
    }
    this.schedule(user, T)
  }

  /** "Entering and leaving", including keep: an exit is due at F + keep and cancelled if the rule holds at or before it. */
  private evaluate(user: RefUser, T: number): void {
    this.rules.segments.forEach((seg, i) => {
      const m = user.memberships[i]!
      if (holds(seg.when, this.scope(user, T, null))) {
        if (m.falseSince !== null && m.falseSince + seg.keepMs === T && seg.keepMs > 0) this.coverage.keepHeldAtDue++
        m.falseSince = null
        if (!m.member) {
          m.member = true
          this.emit(user, i, 'entered', T, T)
        }
      } else if (m.member) {
        m.falseSince ??= T
        const due = m.falseSince + seg.keepMs
        if (T >= due) {
          m.member = false
          m.falseSince = null
          if (seg.keepMs > 0) this.coverage.keepExits++
          this.emit(user, i, 'exited', due, T)
        }
      }
    })
  }

  private emit(user: RefUser, segment: number, change: 'entered' | 'exited', at: number, T: number): void {
    const seg = this.rules.segments[segment]!
    this.changes.push({ segment: seg.name, tenant: user.tenant, user_id: user.userId, change, at, values: this.values(seg.when, user, T), version: ++user.version })
  }

  private values(c: Cond | null, user: RefUser, T: number): Record<string, number | null> {
    const out: Record<string, number | null> = {}
    const scope = this.scope(user, T, null)
    for (const [key, agg] of aggregatesOf(c)) out[key] = scope.aggregate(agg)
    return out
  }

  /**
   * The user's timer: the earliest instant after T at which any value could change with no event.
   * Brute force: every slide-out of every applied event in every window shape, every since()
   * threshold (trait + c and trait + c + 1 cover all six operators), is_new's flip, and pending
   * keep exits. Extra instants are harmless: an evaluation where nothing changed changes nothing.
   */
  private schedule(user: RefUser, T: number): void {
    const candidates: number[] = []
    for (const e of user.applied) for (const s of this.shapes) candidates.push(slideOut(e.ts, s))
    const first = this.trait(user, 'first_seen', T)
    if (typeof first === 'number') candidates.push(first + this.options.newUserMs)
    this.rules.segments.forEach((seg, i) => {
      for (const th of sinceThresholds(seg.when)) {
        const base = this.trait(user, th.trait, T)
        if (typeof base === 'number') candidates.push(base + th.ms, base + th.ms + 1)
      }
      const m = user.memberships[i]!
      if (m.falseSince !== null) candidates.push(m.falseSince + seg.keepMs)
    })
    user.timerAt = Math.min(Infinity, ...candidates.filter((t) => t > T))
  }

  private countHeld(e: RefEvent): void {
    if (this.last?.kind === 'held' && this.last.at === e.ts) this.coverage.heldTies++
    this.last = { kind: 'held', at: e.ts, key: `${e.tenant}:${e.user_id}` }
    this.coverage.heldApplied++
    if (this.mover === 'end') this.coverage.heldAppliedAtEnd++
    if (this.windowed.some(({ agg }) => agg.fn === 'distinct' && passes(agg, e))) this.coverage.heldDistinct++
  }

  private countTimer(user: RefUser, T: number, changes: number): void {
    if (this.last?.kind === 'timer' && this.last.at === T && this.last.key !== user.key) this.coverage.timerTies++
    this.last = { kind: 'timer', at: T, key: user.key }
    if (changes === 0) return
    this.coverage.timerChanges += changes
    const scored = this.latestPrediction(user)?.ts
    if (scored !== undefined && this.rules.segments.some((s) => sinceThresholds(s.when).some((th) => th.trait === 'predicted.scored_at' && (T === scored + th.ms || T === scored + th.ms + 1))))
      this.coverage.predictionTimerChanges += changes
    const B = this.options.bucketsPerWindow
    if (this.windowed.some(({ agg, shape }) => shape.buckets !== B && agg.windowMs! % B !== 0 && T % shape.bucketMs === 0)) this.coverage.oddWindowSlideOuts++
  }

  /** For coverage: would a float running total (add on arrival, subtract on slide-out) drift from the exact sum? */
  private countInexact(user: RefUser, a: AggSpec, T: number, shape: Shape, exact: number | null): void {
    const amount = (e: RefEvent) => {
      const v = readPath(e.properties, a.field!)
      return typeof v === 'number' ? v : 0
    }
    const matching = user.applied.filter((e) => passes(a, e))
    let running = matching.reduce((s, e) => s + amount(e), 0)
    for (const e of matching) if (!inWindow(e.ts, T, shape)) running -= amount(e)
    if (running !== exact) this.coverage.inexactSums++
  }

  private scope(user: RefUser, T: number, props: Readonly<Record<string, unknown>> | null): Scope {
    return {
      aggregate: (a) => this.aggregate(user, a, T),
      trait: (name) => this.trait(user, name, T),
      now: T,
      props,
    }
  }

  aggregate(user: RefUser, a: AggSpec, T: number): number | null {
    const shape = a.windowMs === null ? null : this.shape(a)
    const events = user.applied.filter((e) => passes(a, e) && (shape === null || inWindow(e.ts, T, shape)))
    const values = events.map((e) => (a.field === null ? true : readPath(e.properties, a.field)))
    const value = aggregateValue(a.fn, values)
    if (a.fn === 'sum' && shape !== null) this.countInexact(user, a, T, shape, value)
    return value
  }

  /** docs/engine.md "Traits", over the applied events. */
  trait(user: RefUser, name: TraitName, T: number): Value {
    if (name.startsWith('predicted.')) return this.predicted(user, name)
    const events = user.applied
    if (events.length === 0) return null
    const times = events.map((e) => e.ts)
    switch (name) {
      case 'first_seen':
        return Math.min(...times)
      case 'last_seen':
        return Math.max(...times)
      case 'is_new':
        return T - Math.min(...times) < this.options.newUserMs
      case 'event_count':
        return events.length
      case 'total_purchases': {
        const amounts = events.filter((e) => this.options.purchaseEvents.includes(e.event)).map((e) => e.properties[this.options.purchaseAmountField])
        return amounts.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).reduce((s, v) => s + millionths(v), 0) / 1e6
      }
      default: {
        if (!PROFILE_TRAITS.has(name)) throw new Error(`unknown trait ${name}`)
        // The latest event time wins; at equal times the greater string, whatever the arrival order.
        let best: { ts: number; value: string } | null = null
        for (const e of events) {
          const v = e.properties[name]
          if (typeof v !== 'string') continue
          if (best === null || e.ts > best.ts || (e.ts === best.ts && v > best.value)) best = { ts: e.ts, value: v }
        }
        return best === null ? null : best.value
      }
    }
  }

  /** A predicted trait: from the latest prediction, a score only if it is a finite number, model_version only if a string. */
  private predicted(user: RefUser, name: TraitName): Value {
    const p = this.latestPrediction(user)
    if (p === undefined) return null
    if (name === 'predicted.scored_at') return p.ts
    const v = p.properties[name.slice('predicted.'.length)]
    if (name === 'predicted.model_version') return typeof v === 'string' ? v : null
    return typeof v === 'number' && Number.isFinite(v) ? v : null
  }

  private shape(a: AggSpec): Shape {
    if (a.windowMs === null) throw new Error(`${aggKey(a)} is a lifetime aggregate`)
    return windowShape(a.windowMs, this.options.bucketsPerWindow)
  }

  private user(tenant: string, userId: string): RefUser {
    const key = `${tenant}:${userId}`
    let u = this.users.get(key)
    if (u === undefined) this.users.set(key, (u = new RefUser(tenant, userId, this.rules.segments.length)))
    return u
  }
}
