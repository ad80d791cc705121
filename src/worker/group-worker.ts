import type { EngineOptions } from '../engine/engine-options.ts'
import type { EngineRules } from '../engine/engine-rules.ts'
import { PartitionWorker, type WorkerOptions } from '../engine/partition-worker.ts'
import type { EventLog } from '../log/event-log.ts'
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
  timing: CoordinationTiming
  logger: Logger
  /** How often a progress line is logged. Default 10 s; 0 = never. */
  progressLogMs?: number
}

/**
 * One member of a group of engine workers. Every heartbeat it renews its leases, learns the live
 * members, and moves towards the assignment: partitions no longer its own are checkpointed and
 * released, partitions now its own are acquired (when free or expired) and restored from their
 * checkpoint. A lease the heartbeat no longer returns is lost: that partition stops at once.
 * Ordering: a partition is never started while an earlier run of it in this process is still ending.
 */
export class GroupWorker {
  private readonly slots = new Map<number, PartitionSlot>()
  private readonly handovers = new Set<Promise<void>>()
  private timer: NodeJS.Timeout | null = null
  private ticking: Promise<void> = Promise.resolve()
  private stopped = false
  private progress: { at: number; processed: number } = { at: performance.now(), processed: 0 }
  private retired = 0
  /** performance.now() until which this worker's leases are surely still its own, less the append margin. */
  private validUntil = 0

  constructor(private readonly c: GroupWorkerConfig) {}

  get id(): string {
    return this.c.coordinator.workerId
  }

  /** Partitions running here now, in order. */
  owned(): number[] {
    return [...this.slots.values()].filter((s) => !s.isStopping).map((s) => s.partition).sort((a, b) => a - b)
  }

  /** Joins the group and runs the first rebalance; later ones follow every heartbeat. */
  async start(): Promise<void> {
    await this.c.coordinator.join()
    this.ticking = this.tick()
    await this.ticking
    this.schedule()
  }

  /** Leaves cleanly: every partition checkpointed and released at once, so the others need not wait for expiry. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    await this.ticking
    for (const slot of this.slots.values()) if (!slot.isStopping) this.handOver(slot)
    await Promise.all(this.handovers)
    await this.c.coordinator.leave()
    this.c.logger.info({ worker: this.id }, 'worker left the group')
  }

  private schedule(): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .catch((err: unknown) => this.c.logger.error({ err }, 'rebalance failed; retried next heartbeat'))
        .finally(() => this.schedule())
    }, this.c.timing.heartbeatMs)
  }

  private async tick(): Promise<void> {
    const { coordinator, timing, logger, partitions } = this.c
    const sentAt = performance.now()
    let beat: Heartbeat
    try {
      beat = await coordinator.heartbeat()
    } catch (err) {
      // Leases are not renewed: each running partition stops appending when its margin is reached.
      logger.warn({ err }, 'heartbeat failed')
      return
    }
    // The server set expires = its now() + lease, and its now() is no earlier than sentAt.
    this.validUntil = sentAt + timing.leaseMs - timing.appendMarginMs
    const held = new Map(beat.leases.map((l) => [l.partition, l.epoch]))
    for (const slot of this.slots.values()) {
      if (slot.isStopping) continue
      if (slot.failed !== null) {
        this.forget(slot)
      } else if (held.get(slot.partition) !== slot.epoch) {
        logger.warn({ partition: slot.partition, epoch: slot.epoch }, 'lease lost; partition stopped')
        slot.lose()
        this.forget(slot)
      }
    }
    const mine = new Set(assignedPartitions(this.id, beat.workers, partitions))
    for (const slot of this.slots.values()) if (!mine.has(slot.partition) && !slot.isStopping) this.handOver(slot)
    for (const [partition, epoch] of held) {
      // A lease held with nothing running it: left by a previous run of this id, or by a partition that failed.
      if (!this.slots.has(partition) && !mine.has(partition)) await this.quietly(() => coordinator.release(partition, epoch), partition)
    }
    for (const partition of mine) {
      if (this.slots.has(partition) || this.stopped) continue
      const epoch = await this.quietly(() => coordinator.acquire(partition), partition)
      if (epoch === null || epoch === undefined) continue
      this.open(partition, epoch)
    }
    this.logProgress(beat.workers)
  }

  private open(partition: number, epoch: number): void {
    const { log, store, rules, engine, worker, logger } = this.c
    const slot = new PartitionSlot(partition, epoch, () => this.validUntil, logger)
    this.slots.set(partition, slot)
    const fencedLog = new FencedEventLog(log, slot.guard)
    const fencedStore = new FencedStateStore(store, { owner: this.id, epoch })
    slot.start(() => new PartitionWorker(fencedLog, fencedStore, rules, engine, partition, worker, logger))
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
      this.retired += slot.processed
      if (this.slots.get(slot.partition) === slot) this.slots.delete(slot.partition)
      logger.info({ worker: this.id, partition: slot.partition, epoch: slot.epoch }, 'partition released')
    })()
    this.handovers.add(done)
    void done.finally(() => this.handovers.delete(done))
  }

  /** Drops a slot whose loop has ended or is ending without a checkpoint; the partition may be acquired again once it has. */
  private forget(slot: PartitionSlot): void {
    const done = slot.done.then(() => {
      this.retired += slot.processed
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

  private logProgress(workers: string[]): void {
    const every = this.c.progressLogMs ?? 10_000
    const now = performance.now()
    if (every <= 0 || now - this.progress.at < every) return
    let processed = this.retired
    for (const s of this.slots.values()) processed += s.processed
    const rate = ((processed - this.progress.processed) * 1000) / (now - this.progress.at)
    this.c.logger.info({ worker: this.id, workers: workers.length, partitions: this.owned(), eventsPerSecond: Math.round(rate) }, 'worker progress')
    this.progress = { at: now, processed }
  }
}
