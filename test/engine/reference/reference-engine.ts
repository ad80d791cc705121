/**
 * A brute-force reading of docs/engine.md ("Time", "Windows", "Entering and leaving", "Traits",
 * "Output records") for one partition. Nothing here is incremental: each user keeps the list of the
 * events applied to them, every aggregate and trait is recomputed by scanning that list, and the
 * evaluation instants are enumerated from scratch after every evaluation. Slow, but each function
 * can be checked against one sentence of the docs. It shares no code with src/engine (only the
 * output record types).
 */
import type { AggSpec, Cond, RuleSet, Scalar, Term, TraitName } from './rule-model.ts'
import { aggKey, aggregatesOf, sinceThresholds } from './rule-model.ts'
import type { Notification, SegmentChange } from '../../../src/engine/records.ts'

export interface RefEvent {
  event: string
  user_id: string
  ts: number
  event_id: string
  tenant: string
  properties: Record<string, unknown>
}

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

type Value = Scalar | null

// ---------------------------------------------------------------------------------------------
// Windows: "The bucket size b is the largest whole number of milliseconds that divides the window w
// exactly and gives at least bucketsPerWindow buckets."

export interface Shape {
  bucketMs: number
  buckets: number
}

export function windowShape(windowMs: number, bucketsPerWindow: number): Shape {
  for (let b = Math.floor(windowMs / bucketsPerWindow); b >= 1; b--) if (windowMs % b === 0) return { bucketMs: b, buckets: windowMs / b }
  throw new Error(`no bucket size for a window of ${windowMs} ms`)
}

/** "The window at time T holds the user's applied events with ts ≤ T and bucket(ts) > bucket(T) − n." */
export function inWindow(ts: number, T: number, s: Shape): boolean {
  return ts <= T && Math.floor(ts / s.bucketMs) > Math.floor(T / s.bucketMs) - s.buckets
}

/** The first instant at which an event stops counting: the start of the bucket n buckets after its own. */
export function slideOut(ts: number, s: Shape): number {
  return (Math.floor(ts / s.bucketMs) + s.buckets) * s.bucketMs
}

// ---------------------------------------------------------------------------------------------
// Values. "Each value is rounded to millionths and the millionths are added as integers."

function millionths(v: number): number {
  return Math.round(v * 1e6)
}

/** Property values as rules see them: only strings, booleans and finite numbers; anything else is null. */
export function readPath(props: Readonly<Record<string, unknown>>, path: readonly string[]): Value {
  let v: unknown = props
  for (const key of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return null
    v = (v as Record<string, unknown>)[key]
  }
  if (typeof v === 'string' || typeof v === 'boolean') return v
  if (typeof v === 'number' && Number.isFinite(v)) return v
  return null
}

function aggregate(fn: AggSpec['fn'], values: readonly Value[]): number | null {
  if (fn === 'count') return values.length
  if (fn === 'distinct') {
    // `"1"` and `1` differ: the type is part of the identity.
    const seen = new Set(values.filter((v) => v !== null).map((v) => `${typeof v}:${String(v)}`))
    return seen.size
  }
  const numbers = values.filter((v): v is number => typeof v === 'number')
  const total = numbers.reduce((s, v) => s + millionths(v), 0) / 1e6
  switch (fn) {
    case 'sum':
      return total
    case 'avg':
      return numbers.length === 0 ? null : total / numbers.length
    case 'min':
      return numbers.length === 0 ? null : Math.min(...numbers)
    case 'max':
      return numbers.length === 0 ? null : Math.max(...numbers)
  }
}

// ---------------------------------------------------------------------------------------------
// Conditions. segments.md "Null semantics": a comparison with a null side is false; = and != compare
// type and value; < <= > >= only between two numbers or two strings; a bare value holds only if true.

function same(a: Scalar, b: Scalar): boolean {
  return typeof a === typeof b && a === b
}

function compare(op: string, a: Value, b: Value): boolean {
  if (a === null || b === null) return false
  if (op === '=') return same(a, b)
  if (op === '!=') return !same(a, b)
  const comparable = (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string')
  if (!comparable) return false
  switch (op) {
    case '<':
      return a < b
    case '<=':
      return a <= b
    case '>':
      return a > b
    case '>=':
      return a >= b
  }
  throw new Error(`unknown operator ${op}`)
}

/** What a condition can read: aggregates and traits of one user at one instant, and the event in scope. */
interface Scope {
  aggregate(a: AggSpec): number | null
  trait(name: TraitName): Value
  now: number
  props: Readonly<Record<string, unknown>> | null
}

function term(t: Term, s: Scope): Value {
  switch (t.kind) {
    case 'agg':
      return s.aggregate(t.agg)
    case 'trait':
      return s.trait(t.name)
    case 'since': {
      const base = s.trait(t.trait)
      return typeof base === 'number' ? s.now - base : null
    }
    case 'prop':
      return s.props === null ? null : readPath(s.props, t.path)
    case 'duration':
      return t.ms
    default:
      return t.value
  }
}

export function holds(c: Cond, s: Scope): boolean {
  switch (c.kind) {
    case 'and':
      return holds(c.left, s) && holds(c.right, s)
    case 'or':
      return holds(c.left, s) || holds(c.right, s)
    case 'not':
      return !holds(c.operand, s)
    case 'cmp':
      return compare(c.op, term(c.left, s), term(c.right, s))
    case 'in': {
      const v = term(c.operand, s)
      if (v === null) return false
      const found = c.values.some((lit) => compare('=', v, term(lit, s)))
      return c.negated ? !found : found
    }
    case 'is':
      return term(c.operand, s) === true
  }
}

/** A filter sees only the aggregated event's properties. */
function passes(a: AggSpec, e: RefEvent): boolean {
  if (e.event !== a.event) return false
  if (a.filter === null) return true
  const noUser = () => {
    throw new Error('a filter cannot read aggregates or traits')
  }
  return holds(a.filter, { aggregate: noUser, trait: noUser, now: NaN, props: e.properties })
}

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
  /** Per segment: `tenant:user_id` of the members at the end, sorted. */
  members: string[][]
  /** Reference only. */
  coverage?: Coverage
}

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
  }
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
    return { changes: this.changes, notifications: this.notifications, late: this.late, lateDropped: this.lateDropped, members, coverage: this.coverage }
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
    const value = aggregate(a.fn, values)
    if (a.fn === 'sum' && shape !== null) this.countInexact(user, a, T, shape, value)
    return value
  }

  /** docs/engine.md "Traits", over the applied events. */
  trait(user: RefUser, name: TraitName, T: number): Value {
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
