import type { TrackedEvent } from '../events/envelope.ts'
import { PREDICTION_EVENT } from '../events/prediction.ts'
import { applyPrediction } from './predicted-traits.ts'
import type { EngineOptions } from './engine-options.ts'
import type { EngineRules } from './engine-rules.ts'
import { HeldEvents } from './held-events.ts'
import { bumpMemberships, reevaluateTenant, switchTenantRules } from './tenant-switch.ts'
import { emptyStats, type EngineStats, type IdentityLink, type Notification, type PlayerNotification, type SegmentChange, type StreamedEvent } from './records.ts'
import { eventOutputs, values, type EventOutputLists } from './event-outputs.ts'
import { RuleRuntime } from './rule-runtime.ts'
import { RuleBook } from './tenant-rules.ts'
import type { RulesRecord } from './rules-record.ts'
import { nextChange } from './next-change.ts'
import { Redirects } from './redirects.ts'
import { DirtyUsers } from './dirty-users.ts'
import { SegmentSizes } from './segment-sizes.ts'
import { applyTraits } from './event-plan.ts'
import { mergeUser } from './merge-user.ts'
import { IdentityLinks, type IdentityHost } from './identity-links.ts'
import type { IdentityRecord } from './identity-record.ts'
import { decodeUser, encodeUser } from './user-snapshot.ts'
import { TimerQueue } from './timers.ts'
import { PartitionErasures } from './partition-erasures.ts'
import { UserState } from './user-state.ts'

/** What drainOutputs hands over; `identity`: records for other partitions. */
export interface EngineOutputs extends EventOutputLists {
  changes: SegmentChange[]
  links: IdentityLink[]
  identity: Array<{ partition: number; record: IdentityRecord }>
}

/**
 * One partition's segmentation state machine. Deterministic: the same events in the same order give
 * the same state and the same output records, which is what makes checkpoint + replay exactly-once.
 *
 * Time (docs/engine.md, "Time"): an event moves the watermark to its time minus the allowed
 * lateness; moving the clock releases held events and fires timers in time order; then the event
 * is applied at once (at the watermark) or, if it is still ahead of it, held until the watermark
 * reaches it and applied at its own time.
 */
export class PartitionEngine implements IdentityHost, EventOutputLists {
  /** Users by tenant, then user id: no key string is built per event. */
  readonly tenants = new Map<string, Map<string, UserState>>()
  readonly timers = new TimerQueue<UserState>()
  private lastTenant = ''
  private lastUsers: Map<string, UserState> | null = null
  /** Users changed since the last takeDirty(): what the next checkpoint writes. */
  private readonly dirty = new DirtyUsers()
  changes: SegmentChange[] = []
  notifications: Notification[] = []
  /** Firings of `emit: player` triggers, and events copied to their event streams (event-outputs.ts). */
  players: PlayerNotification[] = []
  streamed: StreamedEvent[] = []
  /** Links made here (this partition holds the person): the `identities` log. */
  links: IdentityLink[] = []
  stats: EngineStats = emptyStats()
  maxTs = -Infinity
  watermark = -Infinity
  /** Events ahead of the watermark, waiting for it (allowed lateness > 0 only). */
  readonly held = new HeldEvents()
  /** Position of the next event when the caller gives none (replay): held events release in (ts, pos) order. */
  private seq = 0
  /** Members per tenant and segment, kept as changes are emitted: sizes cost nothing to read. */
  readonly sizes = new SegmentSizes()
  /** The rules each tenant runs here: the base, or the base and the tenant's own set (docs/tenancy.md). */
  readonly book: RuleBook
  private readonly baseRuntime: RuleRuntime
  /** Env and event plans per tenant rule set in effect, by its prepared rules. */
  private readonly runtimes = new WeakMap<EngineRules, RuleRuntime>()
  /** An event whose apply throws is poison and the partition goes on (docs/engine.md); null: thrown (replay, tests). */
  onApplyError: ((e: TrackedEvent, pos: number, err: unknown) => void) | null = null
  /** This partition and how many the events log has: where another id of a person lives. */
  partition = 0
  partitions = 1
  /** Identity resolution's side of this partition (docs/identity.md). */
  readonly identity = new IdentityLinks(this)
  /** Erases applied here lately (docs/privacy.md), kept in the checkpoint. */
  erasures = new PartitionErasures()

  constructor(
    base: EngineRules,
    readonly options: EngineOptions,
  ) {
    this.book = new RuleBook(base, options)
    this.baseRuntime = new RuleRuntime(base, options)
  }

  /** The rules file's rules, which every tenant runs unless it has its own. */
  get baseRules(): EngineRules {
    return this.book.base
  }

  /** The rules a tenant's users run in this partition now. */
  rulesOf(tenant: string): EngineRules {
    return this.book.of(tenant)
  }

  /** The env and event plans of the tenant's rules (for tenant-switch.ts too). */
  runtimeOf(tenant: string): RuleRuntime {
    if (this.book.baseOnly) return this.baseRuntime
    const rules = this.book.of(tenant)
    if (rules === this.book.base) return this.baseRuntime
    let rt = this.runtimes.get(rules)
    if (rt === undefined) this.runtimes.set(rules, (rt = new RuleRuntime(rules, this.options)))
    return rt
  }

  /** A rules record (docs/tenancy.md): see switchTenantRules. */
  applyRules(r: RulesRecord): number[] | null {
    return switchTenantRules(this, r)
  }

  /** Every user of the tenant evaluated at the watermark: see reevaluateTenant. */
  reevaluateTenant(tenant: string): void {
    reevaluateTenant(this, tenant)
  }

  /** Reads one event in log order; `pos`, its offset, orders held events and says where a restore re-reads. */
  process(e: TrackedEvent, pos = this.seq): void {
    this.stats.processed++
    this.take(e, pos)
  }

  /** An event of an absorbed id from its partition, taken as this person's (counted as forwarded, not processed again), unless erased here since. */
  processForwarded(e: TrackedEvent, pos: number): void {
    if (this.erasures.size === 0 || !this.erasures.erases(e, pos, true)) this.take(e, pos)
  }

  /** An identity record of another partition read from this one's log (false: a copy already applied). */
  receive(r: IdentityRecord, pos = this.seq): boolean {
    return this.identity.receive(r, pos)
  }

  get maxIds(): number {
    return this.options.identityMaxIds
  }

  private take(e: TrackedEvent, pos: number): void {
    this.seq = pos + 1
    // Not activity: applied at once, moving neither the clock nor maxTs (predicted-traits.ts).
    if (e.event === PREDICTION_EVENT) return applyPrediction(this, e)
    if (e.ts > this.maxTs) this.maxTs = e.ts
    const target = e.ts - this.options.allowedLatenessMs
    if (target > this.watermark) this.moveClock(target, false)
    if (e.ts > this.watermark) {
      this.held.push({ event: e, pos })
      if (this.held.size > this.options.maxHeldEvents) this.moveClock(this.held.peek()!.event.ts, false)
      return
    }
    if (e.ts < this.watermark) this.stats.late++
    this.apply(e, this.watermark, pos)
  }

  /** Holds an event again after a restore (the log re-read from the checkpoint's held position), unless an erase dropped it; a prediction was never held, its effect is in the checkpoint. */
  rehold(e: TrackedEvent, pos: number): void {
    if (e.ts > this.watermark && e.event !== PREDICTION_EVENT && (this.erasures.size === 0 || !this.erasures.erases(e, pos, false))) this.held.push({ event: e, pos })
  }

  /**
   * Applies an event, containing a failure to that event. Also for a held event released by a later
   * record's clock move: the failure is reported at the held event's own position, and the clock
   * move goes on. The user is marked dirty whatever was changed before the throw, so the next
   * checkpoint holds the same state as a run that replays the failure.
   */
  private apply(e: TrackedEvent, T: number, pos: number): void {
    if (this.onApplyError === null) return this.applyEvent(e, T)
    try {
      this.applyEvent(e, T)
    } catch (err) {
      this.stats.poison++
      const user = this.getUser(e.tenant, e.user_id)
      if (user !== undefined) this.touch(user)
      this.onApplyError(e, pos, err)
    }
  }

  /** Applies an event at time T (its own time, or the watermark if it came late). */
  private applyEvent(e: TrackedEvent, T: number): void {
    if (this.redirects.size > 0) {
      const person = this.redirectOf(e.tenant, e.user_id)
      if (person !== undefined) return this.identity.forward(e, person, T)
    }
    this.applyAs(e, T)
  }

  /** Applies an event to its user_id's user (never an absorbed id: applyEvent forwards those). */
  applyAs(e: TrackedEvent, T: number): void {
    const anonymous = e.anonymous_id === e.user_id
    const user = this.userFor(e.tenant, e.user_id, anonymous)
    if (user.anonymous && !anonymous) user.anonymous = false
    const rt = this.runtimeOf(e.tenant)
    const plan = rt.plan(e.event)
    applyTraits(user, e, plan, this.options.purchaseAmountField)
    const metrics = plan.metrics
    if (metrics !== undefined) {
      let dropped = false
      for (const m of metrics) {
        if (m.spec.filter !== null && !m.spec.filter(e.properties)) continue
        let state = user.metrics[m.spec.index]
        if (state === undefined) state = user.metrics[m.spec.index] = rt.newMetric(m.spec.index, T)
        else state.advance(T)
        const value = m.read === null ? undefined : m.read(e.properties)
        // A negative amount can make a sum grow as it slides out: that user needs timers.
        if (typeof value === 'number' && value < 0) user.negative = true
        if (!state.add(e.ts, value)) dropped = true
      }
      // Once per event, however many windows it was too old for: lateDropped ≤ late.
      if (dropped) this.stats.lateDropped++
    }
    this.evaluate(user, T, rt)
    if (plan.triggers !== undefined || plan.streams !== undefined) {
      rt.env.now = T
      eventOutputs(this, this.stats, user, e, plan, rt)
    }
    if (!rt.rules.quiet || user.timerAt !== Infinity || user.memberships > 0 || user.negative) this.schedule(user, T, rt)
    this.dirty.addActive(user)
    if (e.anonymous_id !== undefined || e.event === 'alias') this.identity.noteIds(user, e)
  }

  /** Marks a user changed: the next checkpoint writes it. */
  touch(user: UserState): void {
    this.dirty.add(user)
  }

  get dirtyCount(): number {
    return this.dirty.count
  }

  /** Users changed since the last call, for a checkpoint. */
  takeDirty(): UserState[] {
    return this.dirty.take()
  }

  /** Users an event was applied to since the last call (the progress line's active users). */
  takeActive(): number {
    return this.dirty.takeActive()
  }

  /** Moves event time with no event: a clock record, or a replay's end (`final`: timers due at T fire too). */
  advanceTo(T: number, final = false): void {
    if (T > this.watermark || (final && T === this.watermark)) this.moveClock(T, final)
  }

  /** Whether moving the clock to T would release a held event or fire a timer (a clock record is worth writing). */
  dueBefore(T: number): boolean {
    if (T <= this.watermark) return false
    const h = this.held.peek()
    if (h !== undefined && h.event.ts <= T) return true
    for (let top = this.timers.peekItem(); top !== undefined; top = this.timers.peekItem()) {
      const at = this.timers.peekAt()
      if (top.timerAt === at) return at < T
      this.timers.pop()
    }
    return false
  }

  /** Output records produced since the last call, in order; `identity`: records for other partitions. */
  drainOutputs(): EngineOutputs {
    const out = { changes: this.changes, notifications: this.notifications, links: this.links, players: this.players, streamed: this.streamed, identity: this.identity.drain() }
    this.changes = []
    this.notifications = []
    this.links = []
    this.players = []
    this.streamed = []
    return out
  }

  get userCount(): number {
    return [...this.tenants.values()].reduce((n, m) => n + m.size, 0)
  }

  /** Members of a segment by its index in the base rules (replay, whose tenants run the base). */
  members(segment: number): UserState[] {
    return [...this.allUsers()].filter((u) => u.isMember(segment))
  }

  *allUsers(): IterableIterator<UserState> {
    for (const m of this.tenants.values()) yield* m.values()
  }

  getUser(tenant: string, userId: string): UserState | undefined {
    return this.tenants.get(tenant)?.get(userId)
  }

  /** Absorbed ids and their persons (identity merges, docs/identity.md). */
  private readonly redirects = new Redirects()

  /** Some id of this partition redirects to its person: its events are forwarded (docs/identity.md). */
  get redirecting(): boolean {
    return this.redirects.size > 0
  }

  /** The person an id was absorbed into, or undefined when it was not. */
  redirectOf(tenant: string, userId: string): string | undefined {
    return this.redirects.of(tenant, userId)
  }

  /**
   * An identity merge's absorbed side (docs/identity.md, step 2): takes the user out at the
   * watermark with an exit for each segment it was in (`keep` does not hold an id that no longer
   * exists) and returns its state, encoded as a checkpoint encodes it; the id then redirects to
   * `personId`, and the checkpoint keeps only that redirect. Null when this partition holds no
   * such user (an id never seen here still gets its redirect, unless it has one).
   */
  release(tenant: string, userId: string, personId: string): Uint8Array | null {
    const user = this.usersOf(tenant).get(userId)
    if (user === undefined) {
      if (this.redirectOf(tenant, userId) === undefined) this.leaveRedirect(`${tenant}:${userId}`, tenant, userId, personId, 0)
      return null
    }
    this.takeOut(user, undefined)
    this.leaveRedirect(user.key, tenant, userId, personId, user.version)
    return encodeUser(user, this.runtimeOf(tenant).rules)
  }

  /**
   * Erases a person's ids held here (docs/privacy.md): each user is taken out at the watermark with
   * an exit marked `reason: 'erased'` for each segment it was in, and its checkpoint row deleted;
   * an absorbed id's redirect row goes too, and held events of the ids are dropped. Returns how
   * many of the ids this partition held.
   */
  erase(tenant: string, ids: readonly string[]): number {
    let found = 0
    for (const id of ids) {
      const user = this.usersOf(tenant).get(id)
      const gone = user ?? (this.redirects.delete(tenant, id) ? new UserState(`${tenant}:${id}`, tenant, id, 0, 0) : undefined)
      if (gone === undefined) continue
      found++
      if (user !== undefined) this.takeOut(user, 'erased')
      gone.erased = true
      this.touch(gone)
    }
    this.held.removeWhere((h) => h.event.tenant === tenant && ids.includes(h.event.user_id))
    return found
  }

  /** Takes a user out at the watermark, with an exit for each segment it was in. */
  private takeOut(user: UserState, reason: 'erased' | undefined): void {
    const T = Number.isFinite(this.watermark) ? this.watermark : user.lastSeen
    const rt = this.runtimeOf(user.tenant)
    rt.env.user = user
    rt.env.now = T
    rt.rules.compiled.segments.forEach((_, i) => {
      if (!user.isMember(i)) return
      user.since[i] = NaN
      user.falseSince[i] = NaN
      user.memberships--
      this.emit(user, i, 'exited', T, rt, reason)
    })
    this.usersOf(user.tenant).delete(user.userId)
    // A timer still queued for it finds a time that is no longer its own and is skipped.
    user.timerAt = Infinity
  }

  private leaveRedirect(key: string, tenant: string, userId: string, personId: string, version: number): void {
    const rules = this.book.of(tenant)
    const tombstone = new UserState(key, tenant, userId, rules.metrics.length, rules.compiled.segments.length)
    tombstone.redirectTo = personId
    tombstone.version = version
    this.redirects.set(tenant, userId, personId)
    this.touch(tombstone)
  }

  /** An identity merge's person side (step 3): a released user's state added to `personId`, evaluated at the watermark. */
  absorb(tenant: string, personId: string, id: string, state: Uint8Array | null): UserState {
    const user = this.userFor(tenant, personId, false)
    const rt = this.runtimeOf(tenant)
    if (state !== null) mergeUser(user, decodeUser(state, rt.rules), rt.rules)
    const T = Number.isFinite(this.watermark) ? this.watermark : user.lastSeen
    this.links.push({ tenant, user_id: personId, id, at: T })
    this.evaluate(user, T, rt)
    this.schedule(user, T, rt)
    this.touch(user)
    return user
  }

  /** Re-arms a restored user's timer: timers live in memory, their times in the user state. */
  restoreUser(user: UserState): void {
    if (user.redirectTo !== null) return this.redirects.set(user.tenant, user.userId, user.redirectTo)
    this.usersOf(user.tenant).set(user.userId, user)
    user.memberships = user.since.filter((t) => !Number.isNaN(t)).length
    bumpMemberships(this.sizes, user, this.book.of(user.tenant))
    if (user.timerAt !== Infinity) this.timers.add(user.timerAt, user)
  }

  /**
   * Moves the watermark to `target`: held events with ts ≤ target and timers due before it
   * (at < target, or ≤ when final) run in time order, held events first at equal times (the state
   * at t includes the events at t), timers by (at, user key).
   */
  private moveClock(target: number, final: boolean): void {
    for (;;) {
      const h = this.held.peek()
      let top = this.timers.peekItem()
      let at = this.timers.peekAt()
      while (top !== undefined && top.timerAt !== at) {
        this.timers.pop()
        top = this.timers.peekItem()
        at = this.timers.peekAt()
      }
      const timerDue = top !== undefined && (at < target || (final && at === target))
      const heldDue = h !== undefined && h.event.ts <= target
      if (heldDue && (!timerDue || h.event.ts <= at)) {
        this.held.pop()
        this.watermark = h.event.ts
        this.apply(h.event, h.event.ts, h.pos)
      } else if (timerDue) {
        this.timers.pop()
        const user = top!
        this.watermark = Math.max(this.watermark, at)
        user.timerAt = Infinity
        const rt = this.runtimeOf(user.tenant)
        this.evaluate(user, at, rt)
        this.schedule(user, at, rt)
        this.touch(user)
      } else break
    }
    this.watermark = target
  }

  private usersOf(tenant: string): Map<string, UserState> {
    if (tenant === this.lastTenant && this.lastUsers !== null) return this.lastUsers
    let users = this.tenants.get(tenant)
    if (users === undefined) this.tenants.set(tenant, (users = new Map()))
    this.lastTenant = tenant
    this.lastUsers = users
    return users
  }

  private userFor(tenant: string, userId: string, anonymous: boolean): UserState {
    const users = this.usersOf(tenant)
    let user = users.get(userId)
    if (user === undefined) {
      const rules = this.book.of(tenant)
      user = new UserState(`${tenant}:${userId}`, tenant, userId, rules.metrics.length, rules.compiled.segments.length)
      user.anonymous = anonymous
      users.set(userId, user)
    }
    return user
  }

  /** Evaluates the user's segments at T, emitting entries and exits (for tenant-switch.ts too). */
  evaluate(user: UserState, T: number, rt: RuleRuntime): void {
    const env = rt.env
    env.user = user
    env.now = T
    const segments = rt.rules.compiled.segments
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!
      const holds = seg.test(env)
      const member = user.isMember(i)
      if (holds) {
        user.falseSince[i] = NaN
        if (!member) {
          user.since[i] = T
          user.memberships++
          this.emit(user, i, 'entered', T, rt)
        }
      } else if (member) {
        if (Number.isNaN(user.falseSince[i]!)) user.falseSince[i] = T
        const until = user.falseSince[i]! + seg.keepMs
        if (T >= until) {
          user.since[i] = NaN
          user.falseSince[i] = NaN
          user.memberships--
          this.emit(user, i, 'exited', until, rt)
        }
      }
    }
  }

  private emit(user: UserState, segment: number, change: 'entered' | 'exited', at: number, rt: RuleRuntime, reason?: 'erased'): void {
    const seg = rt.rules.compiled.segments[segment]!
    this.sizes.bump(user.tenant, seg.name, change === 'entered' ? 1 : -1)
    this.changes.push({
      segment: seg.name,
      tenant: user.tenant,
      user_id: user.userId,
      change,
      at,
      values: values(rt, seg.metrics),
      version: ++user.version,
      ...(reason === undefined ? {} : { reason }),
    })
    this.stats.segmentChanges++
  }

  /** Sets the user's timer to the earliest moment a segment could flip with no event of theirs. */
  schedule(user: UserState, T: number, rt: RuleRuntime): void {
    const next = nextChange(user, T, rt.rules, this.options, rt.env)
    if (next !== user.timerAt) {
      user.timerAt = next
      if (next !== Infinity) this.timers.add(next, user)
    }
  }
}
