import type { EngineOptions } from '../engine/engine-options.ts'
import type { EngineRules } from '../engine/engine-rules.ts'
import { PartitionWorker, type WorkerOptions } from '../engine/partition-worker.ts'
import { Progress, PROGRESS_INTERVAL_MS, type ProgressLine } from '../engine/progress.ts'
import { TOPICS, type EventLog, type LogTransaction } from '../log/event-log.ts'
import type { Logger } from '../logger.ts'
import type { StateStore } from '../state/state-store.ts'
import { FencedEventLog } from './fenced-log.ts'
import { FencedStateStore } from './fenced-store.ts'
import { PartitionSlot } from './partition-slot.ts'

export interface RunningConfig {
  log: EventLog
  store: StateStore
  rules: EngineRules
  engine: EngineOptions
  worker: WorkerOptions
  /** Outputs through the partition's transactional writer; false: guarded by the lease (see open()). */
  transactions: boolean
  logger: Logger
  /** How often a progress line is logged. Default 60 s (PROGRESS_INTERVAL_MS); 0 = never. */
  progressLogMs?: number
  /** Told every progress line (the worker's /metrics: src/worker/metrics-server.ts). */
  onProgress?: (worker: string, line: ProgressLine) => void
}

/**
 * The partitions one worker process runs, whoever decides which (Kafka's group protocol in
 * member-worker.ts, Postgres leases in lease-worker.ts): each a PartitionSlot with its engine and
 * polling loop. A slot leaves the map only once its loop and writer have ended, so a partition is
 * never started twice in one process.
 */
export class RunningPartitions {
  readonly slots = new Map<number, PartitionSlot>()
  private readonly pending = new Set<Promise<void>>()
  /** Seed 000's progress line (src/engine/progress.ts); the last one logged at. */
  private readonly progress = new Progress()
  private lastProgress = performance.now()

  constructor(
    readonly workerId: string,
    private readonly c: RunningConfig,
    /** performance.now() until which the lease guard lets outputs be appended (lease mode only). */
    private readonly validUntil: () => number = () => Infinity,
  ) {}

  /** Starts a partition; `epoch` is the lease's epoch or the group's generation (logs). */
  open(partition: number, epoch: number): PartitionSlot {
    const { log, store, rules, engine, worker, logger } = this.c
    const slot = new PartitionSlot(partition, epoch, this.validUntil, logger)
    this.slots.set(partition, slot)
    if (log.transactional === undefined || !this.c.transactions) {
      // A log without transactions: outputs are guarded by the lease's own margin, checkpoints by the lease.
      const fencedStore = new FencedStateStore(store, { owner: this.workerId, epoch })
      slot.start(() => new PartitionWorker(new FencedEventLog(log, slot.guard), fencedStore, rules, engine, partition, worker, logger))
    } else {
      // Outputs go through the partition's transactional writer: opening it fences every earlier
      // owner's, in any process, at the broker (docs/deployment.md, "Exactly once"); checkpoints
      // carry its token, so a fenced owner cannot checkpoint once a later one has.
      let txn: LogTransaction | null = null
      slot.start(
        async () => {
          txn = await log.transactional!(partitionWriterId(worker.namespace, partition))
          return new PartitionWorker(log, new FencedStateStore(store, { token: txn.token }), rules, engine, partition, worker, logger, txn)
        },
        async () => {
          await txn?.close()
        },
      )
    }
    logger.info({ worker: this.workerId, partition, epoch }, 'partition acquired')
    return slot
  }

  /** Stops a partition with a last checkpoint; `release` then gives it up (a lease), and the slot leaves. */
  handOver(slot: PartitionSlot, release: () => Promise<void> = async () => undefined): Promise<void> {
    const { logger } = this.c
    return this.track(
      (async () => {
        try {
          await slot.stop()
        } catch (err) {
          logger.warn({ err, partition: slot.partition }, 'last checkpoint before handover failed; the next owner replays from the previous one')
        }
        await release()
        this.remove(slot)
        logger.info({ worker: this.workerId, partition: slot.partition, epoch: slot.epoch }, 'partition released')
      })(),
    )
  }

  /** Drops a slot whose loop has ended or is ending, without a checkpoint; resolves once the partition may be started again. */
  forget(slot: PartitionSlot): Promise<void> {
    const done = this.track(
      slot.done.then(async () => {
        await slot.ended()
        this.remove(slot)
      }),
    )
    // Marked so nothing renews or hands it over while it ends.
    slot.lose()
    return done
  }

  /** Every handover and drop under way, ended. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending)
  }

  /** Partitions running here now, in order. */
  owned(): number[] {
    return [...this.slots.values()]
      .filter((s) => !s.isStopping)
      .map((s) => s.partition)
      .sort((a, b) => a - b)
  }

  /** The first partition whose loop has failed (it is restarted or dropped), in words; null when none has. */
  failure(): string | null {
    for (const slot of this.slots.values()) if (slot.failed !== null) return `partition ${slot.partition} stopped: ${slot.failed.message}`
    return null
  }

  /** Per partition running here: events of its log not yet processed (the worker's /metrics). */
  async lag(): Promise<Map<number, number>> {
    const out = new Map<number, number>()
    for (const slot of this.slots.values()) {
      const w = slot.partitionWorker
      if (w === null || slot.isStopping) continue
      out.set(slot.partition, Math.max(0, (await this.c.log.offsets(TOPICS.events, slot.partition)).end - w.nextOffset))
    }
    return new Map([...out].sort((a, b) => a[0] - b[0]))
  }

  /** Seed 000's line: runtime, processed, events/s, toggled, active and tagged users (docs/operations.md); at most every progressLogMs. */
  logProgress(workers?: number): void {
    const every = this.c.progressLogMs ?? PROGRESS_INTERVAL_MS
    const now = performance.now()
    if (every <= 0 || now - this.lastProgress < every) return
    this.lastProgress = now
    const running = [...this.slots.values()].flatMap((s) => (s.partitionWorker === null ? [] : [s.partitionWorker]))
    const line = this.progress.sample(running, now)
    this.c.logger.info({ worker: this.workerId, ...(workers === undefined ? {} : { workers }), partitions: this.owned(), ...line }, 'worker progress')
    this.c.onProgress?.(this.workerId, line)
  }

  private remove(slot: PartitionSlot): void {
    const w = slot.partitionWorker
    if (w !== null) this.progress.retire(w)
    if (this.slots.get(slot.partition) === slot) this.slots.delete(slot.partition)
  }

  private track(done: Promise<void>): Promise<void> {
    this.pending.add(done)
    void done.finally(() => this.pending.delete(done))
    return done
  }
}

/** The transactional id of a partition's outputs: one writer per engine partition, whichever worker runs it. */
export function partitionWriterId(namespace: string, partition: number): string {
  return `tagstream-${namespace}-p${partition}`
}
