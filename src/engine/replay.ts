import { CODEC, decodeEventAt, partitionFor, type TrackedEvent } from '../events/index.ts'
import type { EngineOptions } from './engine-options.ts'
import type { EngineRules } from './engine-rules.ts'
import { PartitionEngine } from './partition-engine.ts'
import type { Notification, SegmentChange } from './records.ts'
import { DEFAULT_REPLAY_DEDUPE_IDS } from './replay-ids.ts'
import { DROPPED, ENTRY_BINARY, ENTRY_HEADER, entryEnd, entryPartition } from './replay/batch.ts'
import { ReplayInput } from './replay/input.ts'
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
  /** Which raw events become events (push): validation, `ts` required, repeated ids. */
  readonly input: ReplayInput
  onChange: ((c: SegmentChange) => void) | null = null
  onNotification: ((n: Notification) => void) | null = null
  /** An event named a second id: from then on entries are applied in input order (processEntries). */
  private ordered = false
  private entryStarts = new Int32Array(0)
  private entryParts = new Uint16Array(0)
  private entryOrder = new Int32Array(0)
  private readonly partitionCounts: Int32Array

  constructor(
    readonly rules: EngineRules,
    readonly options: EngineOptions,
    readonly partitions: number,
    readonly asOf: number | null = null,
    settings: ReplaySettings = {},
  ) {
    // A batch entry names its partition in 16 bits, DROPPED the one value no partition has.
    if (!Number.isInteger(partitions) || partitions < 1 || partitions >= DROPPED) throw new RangeError(`a replay has 1 to ${DROPPED - 1} partitions, not ${partitions}`)
    this.partitionCounts = new Int32Array(partitions)
    this.engines = Array.from({ length: partitions }, (_, i) => {
      const e = new PartitionEngine(rules, options)
      e.partition = i
      e.partitions = partitions
      return e
    })
    this.input = new ReplayInput(settings.dedupeIds ?? DEFAULT_REPLAY_DEDUPE_IDS)
    this.result = { asOf, events: 0, rejected: 0, duplicates: 0, skipped: 0, late: 0, lateDropped: 0, segmentChanges: 0, notifications: 0, members: {}, firstErrors: [] }
  }

  /**
   * Validates and processes one raw event (as parsed JSON); `line` numbers errors. A repeated client
   * event_id is counted in `duplicates` and skipped; ids made from the line number never repeat.
   */
  push(raw: unknown, line: number): void {
    const e = this.input.parsed(raw, line)
    if (e !== null) this.processEvent(e)
  }

  /** Counts a line that never became an event (bad JSON, or an event refused). */
  reject(line: number, error: string): void {
    this.input.reject(line, error)
  }

  /**
   * Processes the entries of a reader's batch (./replay/batch.ts), bytes[0, length): events already
   * validated, de-duplicated and assigned their partitions, in input order.
   *
   * While the partitions are independent (no event so far named a second id, so no identity record
   * can pass between them, and nobody listens to the outputs in order), the batch is applied
   * partition by partition: each partition sees exactly its events in the same order, so the result
   * is the same, and one partition's users stay in the CPU's caches while its events are applied
   * (measured on seed 000's workload: 1.0–1.2 µs an event to decode and apply, against 1.2–1.6 in
   * input order). Otherwise, in input order.
   */
  processEntries(bytes: Buffer, length: number, share: EntryShare | null = null): void {
    const n = this.indexEntries(bytes, length, share)
    if (share !== null) {
      // Partitions split across threads: each applies its own, and only while no entry can link two.
      if (this.ordered) throw new PartitionsLinked()
      return this.byPartition(bytes, n, share.index, share.of)
    }
    if (this.ordered || this.onChange !== null || this.onNotification !== null) {
      for (let i = 0; i < n; i++) if (this.entryParts[i] !== DROPPED) this.processEntry(bytes, i)
      return
    }
    this.byPartition(bytes, n, 0, 1)
  }

  /** Applies the batch's entries of partitions first, first + step, …, partition after partition, each in batch order (a counting sort). */
  private byPartition(bytes: Buffer, n: number, first: number, step: number): void {
    const parts = this.entryParts
    const counts = this.partitionCounts.fill(0)
    for (let i = 0; i < n; i++) {
      const p = parts[i]!
      if (p !== DROPPED) counts[p]!++
    }
    let at = 0
    for (let p = 0; p < this.partitions; p++) {
      const c = counts[p]!
      counts[p] = at
      at += c
    }
    if (this.entryOrder.length < at) this.entryOrder = new Int32Array(Math.max(at, 2 * this.entryOrder.length))
    const order = this.entryOrder
    for (let i = 0; i < n; i++) {
      const p = parts[i]!
      if (p !== DROPPED) order[counts[p]!++] = i
    }
    // counts[p] is now the end of partition p's run; partition p's run starts where p − 1's ends.
    for (let p = first; p < this.partitions; p += step) for (let k = p === 0 ? 0 : counts[p - 1]!, end = counts[p]!; k < end; k++) this.processEntry(bytes, order[k]!)
  }

  /**
   * Records where each entry of the batch starts and its partition. An entry that may reach another
   * partition (an anonymous_id or an alias), or a forwarding partition, makes this replay ordered from
   * here on; with a share of the partitions, only its own entries are indexed and looked at (each share
   * watches its own).
   */
  private indexEntries(bytes: Buffer, length: number, share: EntryShare | null): number {
    let n = 0
    for (let at = 0; at < length; at = entryEnd(bytes, at)) {
      const p = entryPartition(bytes, at)
      // With a share, the other shares' entries are not even indexed: each engine thread would
      // otherwise index and sort every entry of the file to apply half of them.
      if (share !== null && (p === DROPPED || p % share.of !== share.index)) continue
      if (n === this.entryStarts.length) this.growEntries()
      this.entryStarts[n] = at
      this.entryParts[n++] = p
      if (!this.ordered && p !== DROPPED) {
        if (bytes[at] === ENTRY_BINARY ? namesSecondId(bytes, at + ENTRY_HEADER) : linksIds(jsonEvent(bytes, at + ENTRY_HEADER, entryEnd(bytes, at)))) this.ordered = true
      }
    }
    if (!this.ordered) for (const e of this.engines) if (e.redirecting) this.ordered = true
    return n
  }

  private processEntry(bytes: Buffer, i: number): void {
    const at = this.entryStarts[i]!
    const start = at + ENTRY_HEADER
    const end = entryEnd(bytes, at)
    this.processAt(bytes[at] === ENTRY_BINARY ? decodeEventAt(bytes, start, end) : jsonEvent(bytes, start, end), this.entryParts[i]!)
  }

  private growEntries(): void {
    const starts = new Int32Array(Math.max(1024, 2 * this.entryStarts.length))
    starts.set(this.entryStarts)
    const parts = new Uint16Array(starts.length)
    parts.set(this.entryParts)
    this.entryStarts = starts
    this.entryParts = parts
  }

  /** Events the partitions have held for the watermark so far, ever (HeldEvents.pushed). */
  heldSoFar(): number {
    let n = 0
    for (const e of this.engines) n += e.held.pushed
    return n
  }

  /** Processes an already validated event; no de-duplication here (its id may be the caller's own). */
  processEvent(e: TrackedEvent): void {
    const key = e.tenant === 'default' ? e.user_id : `${e.tenant}:${e.user_id}`
    let p = this.partitionOf.get(key)
    if (p === undefined) this.partitionOf.set(key, (p = partitionFor(`${e.tenant}:${e.user_id}`, this.partitions)))
    this.processAt(e, p)
  }

  /** Processes an event on its partition (partitionFor of `tenant:user_id`, as the reader worked it out). */
  processAt(e: TrackedEvent, p: number): void {
    if (this.asOf !== null && e.ts > this.asOf) {
      this.result.skipped++
      return
    }
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
  finish(at?: number): ReplayResult {
    const r = this.result
    if (this.finished) return r
    this.finished = true
    // `at`: the end worked out over other Replays' partitions too (a replay split across threads).
    const end = at ?? this.asOf ?? this.latest()
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
    const input = this.input.counts
    r.rejected = input.rejected
    r.duplicates = input.duplicates
    r.firstErrors = input.firstErrors
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

  /** The latest event time of any partition: where a replay without --as-of ends. */
  latest(): number {
    let end = Number.NEGATIVE_INFINITY
    for (const e of this.engines) end = Math.max(end, e.maxTs)
    return end
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

/** Which partitions this Replay applies when a replay's partitions are split across threads: p % of === index. */
export interface EntryShare {
  index: number
  of: number
}

/** An entry may link ids of two partitions: a replay whose partitions are split across threads cannot go on (it starts again on one). */
export class PartitionsLinked extends Error {
  override readonly name = 'PartitionsLinked'
  constructor() {
    super('an event may link ids of two partitions')
  }
}

/** A kind-1 entry: the validated event as JSON (./replay/batch.ts). */
function jsonEvent(bytes: Buffer, start: number, end: number): TrackedEvent {
  const e = JSON.parse(bytes.toString('utf8', start, end)) as TrackedEvent
  delete e.id_assigned
  return e
}

const ALIAS = Buffer.from('alias')

/** The event carries an anonymous_id or is an alias: it may link two ids. */
function linksIds(e: TrackedEvent): boolean {
  return e.anonymous_id !== undefined || e.event === 'alias'
}

/** The encoded event at bytes[start] carries an anonymous_id or is an alias: it may link two ids. */
function namesSecondId(bytes: Buffer, start: number): boolean {
  if ((bytes[start + CODEC.AT_FLAGS]! & CODEC.HAS_ANONYMOUS_ID) !== 0) return true
  const at = start + CODEC.HEADER
  return bytes[at] === ALIAS.length && bytes.compare(ALIAS, 0, ALIAS.length, at + 1, at + 1 + ALIAS.length) === 0
}
