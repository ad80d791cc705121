import type { EngineOptions } from '../engine/engine-options.ts'
import type { EngineRules } from '../engine/engine-rules.ts'
import { PartitionWorker, type WorkerOptions } from '../engine/partition-worker.ts'
import { Progress, PROGRESS_INTERVAL_MS, type ProgressLine } from '../engine/progress.ts'
import { TOPICS, type EventLog, type LogTransaction } from '../log/event-log.ts'
import type { Logger } from '../logger.ts'
import type { StateStore } from '../state/state-store.ts'
import { assignedPartitions } from './assignment.ts'
import type { Coordinator, Heartbeat } from './coordinator.ts'
import { FencedEventLog } from './fenced-log.ts'
import { FencedStateStore } from './fenced-store.ts'
import { PartitionSlot } from './partition-slot.ts'
import type { CoordinationTiming } from './timing.ts'

export interface GroupWorkerConfig {
  log: EventLog
  store: StateStore
  coordinator: Coordinator
  rules: EngineRules
  engine: EngineOptions
  /** Partitions of the events topic. */
  partitions: number
  worker: WorkerOptions
  /** Outputs through a transactional writer per partition when the log has them (default); false: the lease's append guard, as before. */
  transactions?: boolean
  timing: CoordinationTiming
  logger: Logger
  /** How often a progress line is logged. Default 60 s (PROGRESS_INTERVAL_MS); 0 = never. */
  progressLogMs?: number
  /** Told every progress line (the worker's /metrics: src/worker/metrics-server.ts). */
  onProgress?: (worker: string, line: ProgressLine) => void
}

/**
 * One member of a group of engine workers. Every heartbeat it renews its membership (and with it its
 * leases) and learns the live members; a lease the heartbeat no longer returns is lost and that
 * partition stops at once. After each heartbeat it moves towards the assignment: partitions no
 * longer its own are checkpointed and released, partitions now its own are acquired (when free or
 * their owner is gone) and restored from their checkpoint. Lease calls run beside the heartbeats,
 * never in their way: a lease row locked by a paused owner must not make this worker miss beats.
 * Ordering: a partition is never started while an earlier run of it in this process is still ending.
 */
export class GroupWorker {
  private readonly slots = new Map<number, PartitionSlot>()
  private readonly handovers = new Set<Promise<void>>()
  private timer: NodeJS.Timeout | null = null
  private ticking: Promise<void> = Promise.resolve()
  private reconciling: Promise<void> | null = null
  private stopped = false
  /** Seed 000's progress line (src/engine/progress.ts); the last one logged at. */
  private readonly progress = new Progress()
  private lastProgress = performance.now()
  /** performance.now() until which this worker's leases are surely still its own, less the append margin. */
  private validUntil = 0

  constructor(private readonly c: GroupWorkerConfig) {}

  get id(): string {
    return this.c.coordinator.workerId
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

  /** Partitions running here now, in order. */
  owned(): number[] {
    return [...this.slots.values()]
      .filter((s) => !s.isStopping)
      .map((s) => s.partition)
      .sort((a, b) => a - b)
  }

  /** Joins the group and runs the first rebalance; later ones follow every heartbeat. */
  async start(): Promise<void> {
    await this.c.coordinator.join()
    this.ticking = this.tick()
    await this.ticking
    await this.reconciling
    this.schedule()
  }

  /** Leaves cleanly: every partition checkpointed and released at once, so the others need not wait for expiry. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    await this.ticking
    await this.reconciling
    for (const slot of this.slots.values()) if (!slot.isStopping) this.handOver(slot)
    await Promise.all(this.handovers)
    await this.c.coordinator.leave()
    this.c.logger.info({ worker: this.id }, 'worker left the group')
  }

  private schedule(): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .catch((err: unknown) => this.c.logger.error({ err }, 'heartbeat handling failed; retried next heartbeat'))
        .finally(() => this.schedule())
    }, this.c.timing.heartbeatMs)
  }

  /** One heartbeat: renew, drop the partitions whose lease is gone, and start a rebalance unless one is running. */
  private async tick(): Promise<void> {
    const { coordinator, timing, logger } = this.c
    const sentAt = performance.now()
    let beat: Heartbeat
    try {
      beat = await coordinator.heartbeat()
    } catch (err) {
      // Nothing renewed: each running partition stops appending when its margin is reached.
      logger.warn({ err }, 'heartbeat failed')
      return
    }
    // The server set expires = its now() + lease, and its now() was no earlier than sentAt.
    this.validUntil = sentAt + timing.leaseMs - timing.appendMarginMs
    const held = new Map(beat.leases.map((l) => [l.partition, l.epoch]))
    for (const slot of this.slots.values()) {
      if (slot.isStopping) continue
      if (slot.failed !== null) {
        this.forget(slot)
      } else if (slot.openedAt < sentAt && held.get(slot.partition) !== slot.epoch) {
        // (A slot opened after this heartbeat was sent may not be in its answer yet.)
        logger.warn({ partition: slot.partition, epoch: slot.epoch }, 'lease lost; partition stopped')
        this.forget(slot)
      }
    }
    if (this.reconciling === null && !this.stopped) {
      this.reconciling = this.reconcile(beat, held)
        .catch((err: unknown) => logger.error({ err }, 'rebalance failed; retried next heartbeat'))
        .finally(() => (this.reconciling = null))
    }
    this.logProgress(beat.workers)
  }

  /** Hands over what is no longer this worker's and acquires what now is, all lease calls at once. */
  private async reconcile(beat: Heartbeat, held: Map<number, number>): Promise<void> {
    const { coordinator, partitions } = this.c
    const mine = new Set(assignedPartitions(this.id, beat.workers, partitions))
    for (const slot of this.slots.values()) if (!mine.has(slot.partition) && !slot.isStopping) this.handOver(slot)
    const calls: Array<Promise<unknown>> = []
    for (const [partition, epoch] of held) {
      // A lease held with nothing running it: left by a previous run of this id, or by a partition that failed.
      if (!this.slots.has(partition) && !mine.has(partition)) calls.push(this.quietly(() => coordinator.release(partition, epoch), partition))
    }
    for (const partition of mine) {
      if (this.slots.has(partition)) continue
      calls.push(
        this.quietly(() => coordinator.acquire(partition), partition).then((epoch) => {
          if (epoch === null || epoch === undefined) return
          if (this.stopped || this.slots.has(partition)) return void this.quietly(() => coordinator.release(partition, epoch), partition)
          this.open(partition, epoch)
        }),
      )
    }
    await Promise.all(calls)
  }

  private open(partition: number, epoch: number): void {
    const { log, store, rules, engine, worker, logger } = this.c
    const slot = new PartitionSlot(partition, epoch, () => this.validUntil, logger)
    this.slots.set(partition, slot)
    if (log.transactional === undefined || this.c.transactions === false) {
      // A log without transactions: outputs are guarded by the lease's own margin, checkpoints by the lease.
      const fencedStore = new FencedStateStore(store, { owner: this.id, epoch })
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
    logger.info({ worker: this.id, partition, epoch }, 'partition acquired')
  }

  /** Stops a partition with a last checkpoint, then gives its lease up for the next owner. */
  private handOver(slot: PartitionSlot): void {
    const { coordinator, logger } = this.c
    const done = (async () => {
      try {
        await slot.stop()
      } catch (err) {
        logger.warn({ err, partition: slot.partition }, 'last checkpoint before handover failed; the next owner replays from the previous one')
      }
      await this.quietly(() => coordinator.release(slot.partition, slot.epoch), slot.partition)
      this.retire(slot)
      if (this.slots.get(slot.partition) === slot) this.slots.delete(slot.partition)
      logger.info({ worker: this.id, partition: slot.partition, epoch: slot.epoch }, 'partition released')
    })()
    this.handovers.add(done)
    void done.finally(() => this.handovers.delete(done))
  }

  /** Drops a slot whose loop has ended or is ending without a checkpoint; the partition may be acquired again once it has. */
  private forget(slot: PartitionSlot): void {
    const done = slot.done.then(async () => {
      await slot.ended()
      this.retire(slot)
      if (this.slots.get(slot.partition) === slot) this.slots.delete(slot.partition)
    })
    this.handovers.add(done)
    void done.finally(() => this.handovers.delete(done))
    // Marked so the next tick neither renews nor hands it over while it ends.
    slot.lose()
  }

  private async quietly<T>(call: () => Promise<T>, partition: number): Promise<T | undefined> {
    try {
      return await call()
    } catch (err) {
      this.c.logger.warn({ err, partition }, 'lease call failed; retried next heartbeat')
      return undefined
    }
  }

  private retire(slot: PartitionSlot): void {
    const w = slot.partitionWorker
    if (w !== null) this.progress.retire(w)
  }

  /** Seed 000's line: runtime, processed, events/s, toggled, active and tagged users (docs/operations.md). */
  private logProgress(workers: string[]): void {
    const every = this.c.progressLogMs ?? PROGRESS_INTERVAL_MS
    const now = performance.now()
    if (every <= 0 || now - this.lastProgress < every) return
    this.lastProgress = now
    const running = [...this.slots.values()].flatMap((s) => (s.partitionWorker === null ? [] : [s.partitionWorker]))
    const line = this.progress.sample(running, now)
    this.c.logger.info({ worker: this.id, workers: workers.length, partitions: this.owned(), ...line }, 'worker progress')
    this.c.onProgress?.(this.id, line)
  }
}

/** The transactional id of a partition's outputs: one writer per engine partition, whichever worker runs it. */
export function partitionWriterId(namespace: string, partition: number): string {
  return `tagstream-${namespace}-p${partition}`
}
