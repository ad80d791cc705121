import { partitionFor, validateEvent, DEFAULT_LIMITS, type TrackedEvent } from '../events/index.ts'
import type { EngineOptions } from './engine-options.ts'
import type { EngineRules } from './engine-rules.ts'
import { PartitionEngine } from './partition-engine.ts'
import type { Notification, SegmentChange } from './records.ts'

export interface ReplayResult {
  asOf: number | null
  events: number
  rejected: number
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

/** Replay keeps no future-skew bound: the file's own clock is the only clock. */
const REPLAY_LIMITS = { ...DEFAULT_LIMITS, maxFutureMs: Number.POSITIVE_INFINITY }

/**
 * The engine over a stream of raw events, with no log and no store: partitioned exactly as the live
 * system partitions them, so per-partition watermarks behave the same.
 */
export class Replay {
  readonly engines: PartitionEngine[]
  private result: ReplayResult
  /** Partition per user key: the murmur2 of each key is computed once. */
  private readonly partitionOf = new Map<string, number>()
  onChange: ((c: SegmentChange) => void) | null = null
  onNotification: ((n: Notification) => void) | null = null
  private line = 0
  // One context object for every event: a closure per event would be an allocation per event
  // (and, under tsx, a defineProperty call for its name). Ids from the line number keep a
  // replay's output identical from run to run.
  private readonly validation = { limits: REPLAY_LIMITS, receivedAt: Date.now(), makeId: () => `line-${this.line}` }

  constructor(
    readonly rules: EngineRules,
    readonly options: EngineOptions,
    readonly partitions: number,
    readonly asOf: number | null = null,
  ) {
    this.engines = Array.from({ length: partitions }, () => new PartitionEngine(rules, options))
    this.result = { asOf, events: 0, rejected: 0, skipped: 0, late: 0, lateDropped: 0, segmentChanges: 0, notifications: 0, members: {}, firstErrors: [] }
  }

  /** Validates and processes one raw event (as parsed JSON); `line` numbers errors. */
  push(raw: unknown, line: number): void {
    this.line = line
    const v = validateEvent(raw, this.validation)
    if (!v.ok) {
      this.result.rejected++
      if (this.result.firstErrors.length < 5) this.result.firstErrors.push({ line, error: `${v.error.field}: ${v.error.reason}` })
      return
    }
    this.processEvent(v.event)
  }

  /** Counts a line that never became an event (bad JSON). */
  reject(line: number, error: string): void {
    this.result.rejected++
    if (this.result.firstErrors.length < 5) this.result.firstErrors.push({ line, error })
  }

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
    if (this.onChange || this.onNotification) this.drain(engine)
    this.result.events++
  }

  /** Brings every partition to the same time (--as-of, else the latest event time) and reports. */
  finish(): ReplayResult {
    const end = this.asOf ?? Math.max(...this.engines.map((e) => e.watermark))
    if (Number.isFinite(end)) for (const e of this.engines) e.advanceTo(end)
    for (const e of this.engines) this.drain(e)
    const r = this.result
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

  private drain(engine: PartitionEngine): void {
    const { changes, notifications } = engine.drainOutputs()
    if (this.onChange) for (const c of changes) this.onChange(c)
    if (this.onNotification) for (const n of notifications) this.onNotification(n)
  }
}

/** Numeric ids in numeric order, then the rest as strings: what a person reading the list expects. */
export function compareIds(a: string, b: string): number {
  const na = Number(a)
  const nb = Number(b)
  if (Number.isInteger(na) && Number.isInteger(nb)) return na - nb
  return a < b ? -1 : a > b ? 1 : 0
}
