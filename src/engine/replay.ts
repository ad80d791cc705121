import { partitionFor, validateEvent, DEFAULT_LIMITS, type TrackedEvent } from '../events/index.ts'
import type { EngineOptions } from './engine-options.ts'
import type { EngineRules } from './engine-rules.ts'
import { PartitionEngine } from './partition-engine.ts'
import type { Notification, SegmentChange } from './records.ts'
import { DEFAULT_REPLAY_DEDUPE_IDS, SeenIds } from './replay-ids.ts'
import { compareIds } from './id-order.ts'

export interface ReplayResult {
  asOf: number | null
  events: number
  rejected: number
  /** Events whose (tenant, event_id) was already replayed: skipped, as the collector skips them. */
  duplicates: number
  /** Events after --as-of, not processed. */
  skipped: number
  late: number
  lateDropped: number
  segmentChanges: number
  notifications: number
  /** Final members per segment, user ids sorted. */
  members: Record<string, string[]>
  firstErrors: Array<{ line: number; error: string }>
}

export interface ReplaySettings {
  /** Client event ids remembered for de-duplication; 0 turns it off. Default 2,000,000. */
  dedupeIds?: number
}

/** Replay keeps no future-skew bound: the file's own clock is the only clock. */
const REPLAY_LIMITS = { ...DEFAULT_LIMITS, maxFutureMs: Number.POSITIVE_INFINITY }

/**
 * A replay has no receive time. A constant stands in for it so that nothing in an event depends on
 * the wall clock; the one thing it would decide, the time of an event without `ts`, is refused in
 * push() instead.
 */
const REPLAY_RECEIVED_AT = 0

const MAX_FIRST_ERRORS = 5

/**
 * The engine over a stream of raw events, with no log and no store: partitioned exactly as the live
 * system partitions them, so per-partition watermarks behave the same.
 */
export class Replay {
  readonly engines: PartitionEngine[]
  private readonly result: ReplayResult
  private finished = false
  /** Partition per user key: the murmur2 of each key is computed once. */
  private readonly partitionOf = new Map<string, number>()
  private readonly seen: SeenIds
  onChange: ((c: SegmentChange) => void) | null = null
  onNotification: ((n: Notification) => void) | null = null
  private line = 0
  // One context object for every event: a closure per event would be an allocation per event
  // (and, under tsx, a defineProperty call for its name). Ids from the line number keep a
  // replay's output identical from run to run.
  private readonly validation = { limits: REPLAY_LIMITS, serverClock: false, receivedAt: REPLAY_RECEIVED_AT, makeId: () => `line-${this.line}` }

  constructor(
    readonly rules: EngineRules,
    readonly options: EngineOptions,
    readonly partitions: number,
    readonly asOf: number | null = null,
    settings: ReplaySettings = {},
  ) {
    this.engines = Array.from({ length: partitions }, (_, i) => {
      const e = new PartitionEngine(rules, options)
      e.partition = i
      e.partitions = partitions
      return e
    })
    this.seen = new SeenIds(settings.dedupeIds ?? DEFAULT_REPLAY_DEDUPE_IDS)
    this.result = { asOf, events: 0, rejected: 0, duplicates: 0, skipped: 0, late: 0, lateDropped: 0, segmentChanges: 0, notifications: 0, members: {}, firstErrors: [] }
  }

  /**
   * Validates and processes one raw event (as parsed JSON); `line` numbers errors. A repeated client
   * event_id is counted in `duplicates` and skipped; ids made from the line number never repeat.
   */
  push(raw: unknown, line: number): void {
    this.line = line
    const v = validateEvent(raw, this.validation)
    if (!v.ok) return this.reject(line, `${v.error.field}: ${v.error.reason}`)
    // validateEvent accepted an object, so these reads are safe.
    const { ts, event_id: clientId } = raw as { ts?: unknown; event_id?: unknown }
    if (ts === undefined || ts === null) return this.reject(line, 'ts: is required in a replay (the collector would use its receive time; a file has none)')
    // Checked after validation, as the collector does: a rejected event does not claim its id.
    if (typeof clientId === 'string' && !this.seen.firstTime(v.event.tenant, clientId)) {
      this.result.duplicates++
      return
    }
    this.processEvent(v.event)
  }

  /** Counts a line that never became an event (bad JSON, or an event refused). */
  reject(line: number, error: string): void {
    this.result.rejected++
    if (this.result.firstErrors.length < MAX_FIRST_ERRORS) this.result.firstErrors.push({ line, error })
  }

  /** Processes an already validated event; no de-duplication here (its id may be the caller's own). */
  processEvent(e: TrackedEvent): void {
    if (this.asOf !== null && e.ts > this.asOf) {
      this.result.skipped++
      return
    }
    const key = e.tenant === 'default' ? e.user_id : `${e.tenant}:${e.user_id}`
    let p = this.partitionOf.get(key)
    if (p === undefined) this.partitionOf.set(key, (p = partitionFor(`${e.tenant}:${e.user_id}`, this.partitions)))
    const engine = this.engines[p]!
    engine.process(e)
    if (engine.identity.out.length > 0) this.route()
    if (this.onChange || this.onNotification) this.drain(engine)
    this.result.events++
  }

  /**
   * Hands on (or, with no listener, drops) every partition's outputs so far. With no listener the
   * records would otherwise pile up in the engines for the whole replay: call it now and then.
   */
  drainAll(): void {
    for (const e of this.engines) this.drain(e)
  }

  /**
   * Brings every partition to the end time and reports; later calls return the same report. The end
   * is --as-of, else the latest event time of the whole input: not the latest watermark, which
   * trails it by the lateness and would leave the last events of the file unapplied.
   */
  finish(): ReplayResult {
    const r = this.result
    if (this.finished) return r
    this.finished = true
    let end = this.asOf ?? Number.NEGATIVE_INFINITY
    if (this.asOf === null) for (const e of this.engines) end = Math.max(end, e.maxTs)
    // Partition by partition, each one's end-of-replay outputs drained before the next moves;
    // again while a partition's end forwarded an event to another (an absorbed id's, held).
    for (let again = true; again;) {
      again = false
      for (const e of this.engines) {
        if (Number.isFinite(end)) e.advanceTo(end, true)
        again = this.route() || again
        this.drain(e)
      }
    }
    r.asOf = Number.isFinite(end) ? end : null
    for (const e of this.engines) {
      r.late += e.stats.late
      r.lateDropped += e.stats.lateDropped
      r.segmentChanges += e.stats.segmentChanges
      r.notifications += e.stats.notifications
    }
    this.rules.compiled.segments.forEach((seg, i) => {
      const ids = this.engines.flatMap((e) => e.members(i).map((u) => (u.tenant === 'default' ? u.userId : `${u.tenant}:${u.userId}`)))
      r.members[seg.name] = ids.sort(compareIds)
    })
    return r
  }

  /**
   * Identity records between partitions (docs/identity.md), handed over in memory at once and in
   * order, as the log would deliver them, until no partition has more. True when records moved.
   */
  private route(): boolean {
    let moved = false
    for (let busy = true; busy;) {
      busy = false
      for (const engine of this.engines) {
        const out = engine.identity.drain()
        for (const { partition, record } of out) this.engines[partition]!.receive(record)
        if (out.length > 0) busy = moved = true
      }
    }
    return moved
  }

  /** Hands on a partition's new outputs: its segment changes, then its notifications. */
  private drain(engine: PartitionEngine): void {
    const { changes, notifications } = engine.drainOutputs()
    if (this.onChange) for (const c of changes) this.onChange(c)
    if (this.onNotification) for (const n of notifications) this.onNotification(n)
  }
}
