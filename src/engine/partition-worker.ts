import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { clockRecordTime } from '../events/clock-record.ts'
import { CODEC, decodeEventAt } from '../events/codec.ts'
import { DEFAULT_TENANT, type TrackedEvent } from '../events/envelope.ts'
import { appendDeadLetters, type DeadLetter } from '../ingest/dead-letters.ts'
import { TOPICS, type EventLog, type LogTransaction } from '../log/event-log.ts'
import { readRecordBatch } from '../log/read-batch.ts'
import { recordsInRange } from '../log/read-range.ts'
import type { Logger } from '../logger.ts'
import type { PartitionCheckpoint, StateStore, UserRecord } from '../state/state-store.ts'
import type { EngineOptions } from './engine-options.ts'
import type { EngineRules } from './engine-rules.ts'
import { checkClock, decodeBinary, decodeEngineRecord, message, poison, type Poison } from './engine-record.ts'
import { PartitionEngine } from './partition-engine.ts'
import { recordLetter } from '../ingest/record-letter.ts'
import { emptyStats, type EngineStats } from './records.ts'
import { decodeUser, encodeUser } from './user-snapshot.ts'
import { emptyIdentityStats, marksFromJson, marksToJson, type IdentityStats } from './identity-links.ts'
import { decodeIdentityRecord, encodeIdentityRecord, type IdentityRecord } from './identity-record.ts'
import { decodeRulesRecord } from './rules-record.ts'
import { restoreTenantRules, tenantOfKey } from './restore-rules.ts'
import { PartitionBackfills } from './backfill/partition-backfills.ts'
import { appendClockRecord, asBuffer, finite, safeJson } from './worker-helpers.ts'
import { decodeEraseRecord } from '../events/erase-record.ts'
import { PartitionErasures, type AppliedErase } from './partition-erasures.ts'
import { outputTopics, PartitionOutputs } from './partition-outputs.ts'

export interface WorkerOptions {
  namespace: string
  /** How often state + offset are checkpointed. Default 1 s. */
  checkpointIntervalMs: number
  /** Events read per poll. Default 5,000. */
  batchSize: number
  /** How long a poll waits at the end of the log. Default 100 ms. */
  pollWaitMs: number
  /**
   * Live mode: at most this often a quiet partition with something due appends a clock record
   * moving its clock with wall time (docs/engine.md, "Time"). Default 1 s; 0 turns it off (the
   * clock then moves with events only, as in a replay).
   */
  clockTickMs: number
  /** A clock record carries now − allowed lateness − this margin. Default 1 s. */
  clockMarginMs: number
  /**
   * Appends a clock record for the partition. Default: to the events log directly. The embedded
   * log has one writer per partition, so `serve`'s engine thread hands it to the main thread.
   */
  appendClock?: (partition: number, time: number) => Promise<unknown>
  /**
   * Appends the dead letters of poison records (docs/engine.md, "Poison records"). Default: to the
   * dead-letters log directly; `serve`'s engine thread hands them to the main thread, the writer
   * of that log's partitions.
   */
  appendDeadLetters?: (letters: DeadLetter[]) => Promise<unknown>
  /**
   * Appends identity records to another partition of the events log (docs/identity.md), resolving
   * once they are durable. Default: to the log directly; `serve`'s engine thread hands them to the
   * main thread, the writer of the embedded log's partitions, and waits for its answer.
   */
  appendEvents?: (partition: number, records: Array<{ key: string; value: Uint8Array; timestamp: number }>) => Promise<unknown>
  /** The warehouse directory, if readable: new aggregates fill from it, then the log (docs/tenancy.md); absent, the log alone. */
  warehouseRoot?: string | null
  /**
   * With a transactional writer (a worker on Kafka): how often the outputs appended in its open
   * transaction are committed while the partition is caught up, which is when readers see them.
   * Every checkpoint commits first too (through a backlog, only they do). Default 100 ms.
   */
  commitIntervalMs?: number
}

export const DEFAULT_WORKER_OPTIONS: WorkerOptions = { namespace: 'engine', checkpointIntervalMs: 1_000, batchSize: 5_000, pollWaitMs: 100, clockTickMs: 1_000, clockMarginMs: 1_000 }

/** The engine clock a checkpoint carries. */
interface CheckpointClock {
  maxTs: number | null
  watermark: number | null
  stats: EngineStats
  /** Smallest log offset of an event held ahead of the watermark, or null: restore re-reads from there. */
  heldFrom?: number | null
  /** Identity records: the last sequence number sent to and applied from each partition, and the counters. */
  identity?: { sent: Record<string, number>; recv: Record<string, number>; stats: IdentityStats }
  /** Tenant rule set versions in effect (docs/tenancy.md); absent when every tenant runs the base. */
  rules?: Record<string, number>
  /** Erases applied lately (docs/privacy.md, partition-erasures.ts); absent when none. */
  erasures?: unknown
}

const EMPTY: Buffer = Buffer.alloc(0)

/**
 * Runs one partition's engine over the event log with exactly-once effects:
 * - state and the next input offset are checkpointed in one atomic write;
 * - outputs are appended (durably) before the checkpoint that covers them;
 * - after a restart the engine replays from the checkpoint and regenerates the same outputs in the
 *   same order; the ones the log already holds beyond the checkpoint's output offsets are skipped.
 */
export class PartitionWorker {
  engine: PartitionEngine
  /** Backfills of this partition's tenants' new aggregates (backfill/). */
  readonly backfills: PartitionBackfills
  nextOffset = 0
  /** The engine's counters as restored: what this run processed is beyond them (progress.ts). */
  restored = { processed: 0, changes: 0 }
  /** The output logs, their positions and the appends in flight (partition-outputs.ts). */
  private readonly outputs: PartitionOutputs
  private lastCheckpoint = 0
  /** Wall time of the last transaction commit started. */
  private lastCommit = 0
  private checkpointedOffset = -1
  /** The checkpoint being written in the background, if any. */
  private saving: Promise<void> | null = null
  /** A background append or checkpoint failed: the next poll throws it and the partition stops. */
  private failure: Error | null = null
  /** Wall time of the last clock record appended, and whether one is in flight. */
  private lastClock = 0
  private clockInFlight = false
  /** Dead letters of poison records not yet appended: they go with the batch's outputs. */
  private letters: DeadLetter[] = []
  /** Partitions of the dead-letters log (letters keyed by tenant), and of the events log (identity records' targets). */
  private deadLetterPartitions = 1
  private eventPartitions = 1
  /** Erases applied whose output positions are still being filled in (eraseRecord). */
  private erasureFills: Array<Promise<void>> = []
  /** Identity refusals not yet logged (one line a second at most). */
  private refusals = { count: 0, loggedAt: 0 }
  /** The record being handled, for an apply error to quote (left set after: a held event's position is always below it). */
  private current: { bytes: Buffer; start: number; end: number; offset: number } = { bytes: EMPTY, start: 0, end: 0, offset: -1 }

  constructor(
    private readonly log: EventLog,
    private readonly store: StateStore,
    /** The rules file's rules; tenants' own sets come from the log (rules records). */
    readonly baseRules: EngineRules,
    readonly options: EngineOptions,
    readonly partition: number,
    private readonly worker: WorkerOptions = DEFAULT_WORKER_OPTIONS,
    private readonly logger?: Logger,
    /**
     * Outputs go through this transaction, committed every commitIntervalMs and before every
     * checkpoint (docs/deployment.md, "Exactly once"): opening it fenced any earlier writer of this
     * partition, so a worker that lost the partition can no longer land outputs. Absent, they are
     * appended to the log directly (serve's engine: one process owns the embedded log).
     */
    private readonly txn: LogTransaction | null = null,
  ) {
    this.outputs = new PartitionOutputs(
      log,
      partition,
      outputTopics(baseRules),
      (err) => {
        this.failure ??= err
      },
      txn ?? log,
    )
    this.engine = this.newEngine()
    this.backfills = new PartitionBackfills(log, options, worker.warehouseRoot ?? null, logger)
  }

  private newEngine(): PartitionEngine {
    const engine = new PartitionEngine(this.baseRules, this.options)
    engine.onApplyError = (e, pos, err) => this.applyFailed(e, pos, err)
    engine.partition = this.partition
    engine.partitions = this.eventPartitions
    engine.identity.onRefused = (r) => this.refusedLink(r)
    return engine
  }

  /** Loads the checkpoint and users, and works out which regenerated outputs are already in the log. */
  async restore(): Promise<void> {
    const { namespace } = this.worker
    const ckpt = await this.store.loadCheckpoint(namespace, this.partition)
    this.deadLetterPartitions = (await this.log.partitionCount(TOPICS.deadLetters)) ?? 1
    this.eventPartitions = (await this.log.partitionCount(TOPICS.events)) ?? 1
    const engine = this.newEngine()
    if (ckpt) {
      const clock = ckpt.engine as unknown as CheckpointClock
      engine.maxTs = clock.maxTs ?? -Infinity
      engine.watermark = clock.watermark ?? -Infinity
      engine.stats = { ...emptyStats(), ...clock.stats }
      marksFromJson(clock.identity?.sent, engine.identity.sent)
      marksFromJson(clock.identity?.recv, engine.identity.recv)
      engine.identity.stats = { ...emptyIdentityStats(), ...clock.identity?.stats }
      await restoreTenantRules(engine, this.store, clock.rules, this.partition, this.logger)
      engine.erasures = PartitionErasures.fromJson(clock.erasures)
      for await (const u of this.store.loadUsers(namespace, this.partition)) {
        if (u.state) engine.restoreUser(decodeUser(u.state, engine.rulesOf(tenantOfKey(u.key))))
      }
      this.nextOffset = ckpt.nextOffset
      // Events held ahead of the watermark are not in the checkpoint: every event read before it
      // with a time past its watermark was held, so they are read again from the log.
      const from = clock.heldFrom ?? null
      if (from !== null) {
        // A forwarded event was held like every other; a copy of it sent again was dropped when read
        // (the receive mark), so only the first of each (sender, seq) is held again.
        const forwarded = new Set<string>()
        for await (const r of recordsInRange(this.log, TOPICS.events, this.partition, from, this.nextOffset)) {
          const b = asBuffer(r.value)
          if (b.length > 0 && b[0] === CODEC.IDENTITY) {
            const d = decodeIdentityRecord(b, 0, b.length, this.eventPartitions)
            if (!('message' in d) || d.message.kind !== 'forward' || forwarded.has(`${d.source}:${d.seq}`)) continue
            forwarded.add(`${d.source}:${d.seq}`)
            const e = asBuffer(d.message.event)
            engine.rehold(decodeEventAt(e, 0, e.length), r.offset)
            continue
          }
          // Decided exactly as the poll loop did: a poison record was never held.
          const d = decodeEngineRecord(b, 0, b.length, this.partition, r.offset, r.timestamp)
          if (d.kind === 'event') engine.rehold(d.event, r.offset)
        }
      }
    }
    this.engine = engine
    const skip = await this.outputs.restore(ckpt?.outputs)
    this.checkpointedOffset = this.nextOffset
    this.restored = { processed: engine.stats.processed, changes: engine.stats.segmentChanges }
    this.lastCheckpoint = Date.now()
    this.logger?.info({ partition: this.partition, nextOffset: this.nextOffset, users: engine.userCount, skip }, 'partition restored')
  }

  /**
   * Reads and processes one batch; returns the number of events processed. Neither the outputs'
   * durability nor a due checkpoint holds up the next batch: both complete in the background (in
   * order, before any checkpoint that covers them), so a partition never stalls for an fsync.
   */
  async poll(maxWaitMs = this.worker.pollWaitMs): Promise<number> {
    if (this.failure) throw this.failure
    const batch = await readRecordBatch(this.log, TOPICS.events, this.partition, this.nextOffset, { maxRecords: this.worker.batchSize, maxWaitMs })
    let chunk = -1
    let bytes = EMPTY
    let read = 0
    while (read < batch.count) {
      const i = read++
      if (batch.chunkOf[i] !== chunk) {
        chunk = batch.chunkOf[i]!
        bytes = asBuffer(batch.chunks[chunk]!)
      }
      this.handle(bytes, batch.starts[i]!, batch.ends[i]!, batch.offsets[i]!, batch.timestamps[i]!)
      // A rules record that added aggregates: their history is read before any later record.
      if (this.backfills.waiting) break
    }
    if (read > 0) this.nextOffset = batch.offsets[read - 1]! + 1
    if (this.backfills.waiting) await this.backfills.run(this.engine)
    const caughtUp = batch.count < this.worker.batchSize
    if (caughtUp) this.tickClock()
    this.startOutputs()
    // At the end of the log, every commitIntervalMs: readers see outputs that soon. While catching up
    // (a full batch read), only with the checkpoints: a commit costs the broker markers in every
    // partition the transaction touched (measured: 27% of the catch-up rate at 100 ms, 4% at 1 s),
    // and outputs of a backlog are late by the backlog anyway.
    if (this.txn !== null && caughtUp && Date.now() - this.lastCommit >= (this.worker.commitIntervalMs ?? 100)) void this.commit().catch(() => undefined)
    if (this.saving === null && Date.now() - this.lastCheckpoint >= this.worker.checkpointIntervalMs) {
      const saving = this.startCheckpoint()
      this.saving = saving
      void saving.then(
        () => {
          if (this.saving === saving) this.saving = null
        },
        (err: unknown) => {
          this.failure ??= err instanceof Error ? err : new Error(String(err))
          if (this.saving === saving) this.saving = null
        },
      )
    }
    // Nothing above waits on I/O while there is a backlog: give the event loop a turn after each
    // batch, or fsync completions, timers and the API's messages would wait for the catch-up to end.
    if (read > 0) await yieldToLoop()
    return read
  }

  /**
   * One record of the events log: a clock record moves the clock, an event is processed, anything
   * else is poison: dead-lettered, counted, logged, and the partition moves on (docs/engine.md,
   * "Poison records"). Our own binary events take the first branch with no allocation beyond the
   * decoded event.
   */
  private handle(bytes: Buffer, start: number, end: number, offset: number, timestamp: number): void {
    const cur = this.current
    cur.bytes = bytes
    cur.start = start
    cur.end = end
    cur.offset = offset
    try {
      // An empty value has no first byte of its own (decodeEngineRecord dead-letters it).
      const first = end > start ? bytes[start] : -1
      if (first === CODEC.VERSION) {
        const e = decodeBinary(bytes, start, end)
        if ('poison' in e) this.poisoned(e.poison, offset, timestamp, bytes.subarray(start, end))
        else this.engine.process(e, offset)
      } else if (first === CODEC.IDENTITY) {
        const r = decodeIdentityRecord(bytes, start, end, this.eventPartitions)
        if ('message' in r) this.engine.receive(r, offset)
        else this.poisoned(poison(DEFAULT_TENANT, r.field, r.reason), offset, timestamp, bytes.subarray(start, end))
      } else if (first === CODEC.RULES) {
        this.rulesRecord(bytes, start, end, offset, timestamp)
      } else if (first === CODEC.ERASE) {
        this.eraseRecord(bytes, start, end, offset, timestamp)
      } else if (first === CODEC.CLOCK && checkClock(bytes, start, end) === null) {
        // Never past the record's own log time: a forged clock record cannot move the clock ahead.
        this.engine.advanceTo(Math.min(clockRecordTime(bytes, start), timestamp))
      } else {
        const d = decodeEngineRecord(bytes, start, end, this.partition, offset, timestamp)
        if (d.kind === 'event') this.engine.process(d.event, offset)
        else if (d.kind === 'clock') this.engine.advanceTo(Math.min(d.time, timestamp))
        else this.poisoned(d.poison, offset, timestamp, bytes.subarray(start, end))
      }
    } catch (err) {
      // Applying an event is contained by the engine (onApplyError); what still gets here is a
      // failure around it, e.g. a timer's evaluation during a clock move. The record is the
      // nearest thing to blame, and stopping the partition for good would be worse.
      this.poisoned(poison(DEFAULT_TENANT, '(apply)', `engine error: ${message(err)}`), offset, timestamp, bytes.subarray(start, end))
    }
  }

  /** A tenant's rule set changed (docs/tenancy.md): applied here, or dead-lettered when it cannot be. */
  private rulesRecord(bytes: Buffer, start: number, end: number, offset: number, timestamp: number): void {
    const r = decodeRulesRecord(bytes, start, end)
    if (!('text' in r)) return this.poisoned(poison(DEFAULT_TENANT, r.field, r.reason), offset, timestamp, bytes.subarray(start, end))
    try {
      const fresh = this.engine.applyRules(r)
      if (fresh === null) return
      this.logger?.info({ partition: this.partition, offset, tenant: r.tenant, version: r.version, newAggregates: fresh.length }, 'tenant rules applied')
      this.backfills.afterRules(this.engine, r, fresh, offset)
    } catch (err) {
      this.poisoned(poison(r.tenant, 'rules', `rule set version ${r.version} not applied: ${message(err)}`), offset, timestamp, bytes.subarray(start, end))
    }
  }

  /** A person erased (docs/privacy.md); the outputs are issued at once: their ends bound the warehouse's rewrite of the streams. */
  private eraseRecord(bytes: Buffer, start: number, end: number, offset: number, timestamp: number): void {
    const r = decodeEraseRecord(bytes, start, end)
    if (!('job' in r)) return this.poisoned(poison(DEFAULT_TENANT, r.field, r.reason), offset, timestamp, bytes.subarray(start, end))
    if (!this.engine.erasures.isNew(r)) return
    const found = this.engine.erase(r.tenant, r.ids)
    this.startOutputs()
    const applied: AppliedErase = { job: r.job, tenant: r.tenant, ids: r.ids, offset, at: timestamp, outputs: {} }
    this.engine.erasures.add(applied)
    // The positions after the erase's own exits, once their appends resolve: a checkpoint waits for them.
    const filled = this.outputs.positions().then((p) => void (applied.outputs = p))
    filled.catch(() => undefined)
    this.erasureFills.push(filled)
    this.logger?.info({ partition: this.partition, offset, tenant: r.tenant, job: r.job, idsHeld: found }, 'person erased')
  }

  /** An event that failed to apply (the engine's onApplyError): possibly a held one, applied later. */
  private applyFailed(e: TrackedEvent, pos: number, err: unknown): void {
    const cur = this.current
    // A held event's record was read earlier: the letter then quotes the event as decoded, and
    // topic/partition/offset still find the record itself.
    const raw = pos === cur.offset ? cur.bytes.subarray(cur.start, cur.end) : Buffer.from(safeJson(e))
    this.deadLetter(poison(e.tenant, '(apply)', `engine error: ${message(err)}`), pos, e.received_at, raw)
  }

  private refusedLink(r: { tenant: string; id: string; person: string; reason: string }): void {
    this.refusals.count++
    const now = Date.now()
    if (now - this.refusals.loggedAt < 1_000) return
    this.logger?.info({ partition: this.partition, tenant: r.tenant, id: r.id, person: r.person, reason: r.reason, refusedSinceLastLine: this.refusals.count }, 'identity link refused')
    this.refusals = { count: 0, loggedAt: now }
  }

  private poisoned(p: Poison, offset: number, timestamp: number, raw: Uint8Array): void {
    this.engine.stats.poison++
    this.deadLetter(p, offset, timestamp, raw)
  }

  private deadLetter(p: Poison, offset: number, timestamp: number, raw: Uint8Array): void {
    this.letters.push(recordLetter('engine', p, { topic: TOPICS.events, partition: this.partition, offset, timestamp }, raw))
    this.logger?.warn({ topic: TOPICS.events, partition: this.partition, offset, tenant: p.tenant, field: p.field, reason: p.reason }, 'poison record: dead-lettered, partition continues')
  }

  /** Appends the outputs produced so far and waits until they (and every earlier one) are durable, and committed with a transaction. */
  async flushOutputs(): Promise<void> {
    this.startOutputs()
    await this.outputs.durable()
    if (this.txn !== null) await this.commit()
  }

  /**
   * Commits the transaction's appends so far (they wait for it inside LogTransaction.commit). A
   * failure, a fence above all, stops the partition at its next poll; nothing uncommitted is seen.
   */
  private commit(): Promise<void> {
    this.lastCommit = Date.now()
    const committed = this.txn!.commit()
    committed.catch((err: unknown) => {
      this.failure ??= err instanceof Error ? err : new Error(String(err))
    })
    return committed
  }

  /** Writes a checkpoint of everything processed so far and waits for it (and any in flight) to be durable. */
  async checkpoint(): Promise<void> {
    if (this.saving) await this.saving.catch(() => undefined)
    if (this.failure) throw this.failure
    await this.startCheckpoint()
  }

  /**
   * Takes the checkpoint's contents now (offset, dirty users, output ends), then writes it once the
   * outputs issued before it are durable. The caller keeps processing meanwhile; dirty users from
   * then on belong to the next checkpoint. If the write fails, the partition stops (the failure is
   * rethrown by the next poll) and a restart replays from the last checkpoint that was written.
   */
  private async startCheckpoint(): Promise<void> {
    this.lastCheckpoint = Date.now()
    if (this.nextOffset === this.checkpointedOffset && this.engine.dirtyCount === 0) return
    this.startOutputs()
    const e = this.engine
    // By key, the last one winning: an erased user and the new one of the same id (erased: null deletes the row).
    const byKey = new Map<string, UserRecord>()
    for (const u of e.takeDirty()) byKey.set(u.key, { key: u.key, state: u.erased ? null : encodeUser(u, e.rulesOf(u.tenant)) })
    const users = [...byKey.values()]
    const rules = e.book.versions()
    // Everything is taken now, before any wait: the poll loop goes on processing meanwhile. Only the
    // output positions, and the erases' (eraseRecord), are known once the appends issued so far resolve.
    const erasures = e.erasures.snapshot()
    const fills = this.erasureFills
    this.erasureFills = []
    const positions = this.outputs.positions()
    // Awaited below unless a wait before it fails first (that failure is the checkpoint's).
    positions.catch(() => undefined)
    const offset = this.nextOffset
    const engine: CheckpointClock = {
      maxTs: finite(e.maxTs),
      watermark: finite(e.watermark),
      stats: { ...e.stats },
      heldFrom: e.held.minPos(),
      identity: { sent: marksToJson(e.identity.sent), recv: marksToJson(e.identity.recv), stats: { ...e.identity.stats } },
      ...(Object.keys(rules).length > 0 ? { rules } : {}),
    }
    await this.outputs.durable()
    await Promise.all(fills)
    // The outputs this checkpoint covers are committed before it is written: a checkpoint never
    // points past outputs a crash could still take back.
    if (this.txn !== null) await this.commit()
    const applied = PartitionErasures.toJsonOf(erasures)
    if (applied !== undefined) engine.erasures = applied
    const ckpt: PartitionCheckpoint = { nextOffset: offset, engine: { ...engine }, outputs: await positions }
    await this.store.saveCheckpoint(this.worker.namespace, this.partition, ckpt, users)
    this.checkpointedOffset = offset
  }

  /**
   * At the end of the log: if the wall clock says something is due (a timer, a held event), append
   * a clock record to this partition's events. The engine moves its clock when it reads the record
   * back, so the move is in the log and a restore or a replay of the log repeats it exactly.
   */
  private tickClock(): void {
    const { clockTickMs, clockMarginMs } = this.worker
    if (clockTickMs <= 0 || this.clockInFlight) return
    const now = Date.now()
    if (now - this.lastClock < clockTickMs) return
    const T = now - this.options.allowedLatenessMs - clockMarginMs
    if (!this.engine.dueBefore(T)) return
    this.lastClock = now
    this.clockInFlight = true
    const appended = this.worker.appendClock ? this.worker.appendClock(this.partition, T) : appendClockRecord(this.log, this.partition, T)
    appended.then(
      () => {
        this.clockInFlight = false
      },
      (err: unknown) => {
        this.failure ??= err instanceof Error ? err : new Error(String(err))
      },
    )
  }

  private startOutputs(): void {
    if (this.letters.length > 0) {
      const letters = this.letters
      this.letters = []
      // Durable before the checkpoint that covers their records, like the outputs: a crash
      // re-decides those records and may write their letters again (at least once, never lost).
      this.outputs.track((this.worker.appendDeadLetters ?? ((l: DeadLetter[]) => appendDeadLetters(this.log, l, this.deadLetterPartitions)))(letters))
    }
    const out = this.engine.drainOutputs()
    if (out.identity.length > 0) this.appendIdentity(out.identity)
    this.outputs.issue(out)
  }

  /**
   * Identity records go to their partitions of the events log, durable before the checkpoint that
   * covers them (like the outputs). After a restore they are made and sent again with the same
   * sequence numbers, and the receiver drops the copies: no position counting is needed.
   */
  private appendIdentity(records: Array<{ partition: number; record: IdentityRecord }>): void {
    const byPartition = new Map<number, Array<{ key: string; value: Uint8Array; timestamp: number }>>()
    const now = Date.now()
    for (const { partition, record } of records) {
      let list = byPartition.get(partition)
      if (list === undefined) byPartition.set(partition, (list = []))
      list.push({ key: `${record.message.tenant}:${record.message.kind === 'claim' ? record.message.id : record.message.person}`, value: encodeIdentityRecord(record), timestamp: now })
    }
    for (const [partition, list] of byPartition) this.outputs.track(this.worker.appendEvents ? this.worker.appendEvents(partition, list) : this.log.append(TOPICS.events, partition, list))
  }
}
