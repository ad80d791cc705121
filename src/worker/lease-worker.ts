import { assignedPartitions } from './assignment.ts'
import type { Coordinator, Heartbeat } from './coordinator.ts'
import { PartitionsWorker, type GroupWorkerConfig } from './group-worker.ts'
import { RunningPartitions } from './running-partitions.ts'

/**
 * A worker that shares partitions through leases in Postgres (coordinator.ts): the design before
 * Kafka's group protocol, kept for logs without one (embedded) and for `--transactions off`.
 *
 * Every heartbeat it renews its membership (and with it its leases) and learns the live members; a
 * lease the heartbeat no longer returns is lost and that partition stops at once. After each
 * heartbeat it moves towards the assignment: partitions no longer its own are checkpointed and
 * released, partitions now its own are acquired (when free or their owner is gone) and restored from
 * their checkpoint. Lease calls run beside the heartbeats, never in their way: a lease row locked by
 * a paused owner must not make this worker miss beats.
 */
export class LeaseWorker extends PartitionsWorker {
  protected readonly running: RunningPartitions
  private timer: NodeJS.Timeout | null = null
  private ticking: Promise<void> = Promise.resolve()
  private reconciling: Promise<void> | null = null
  /** performance.now() until which this worker's leases are surely still its own, less the append margin. */
  private validUntil = 0

  constructor(
    private readonly c: GroupWorkerConfig,
    private readonly coordinator: Coordinator,
  ) {
    super()
    this.running = new RunningPartitions(coordinator.workerId, { ...c, transactions: c.transactions !== false }, () => this.validUntil)
  }

  get id(): string {
    return this.coordinator.workerId
  }

  protected outOfGroup(): string | null {
    if (performance.now() >= this.validUntil) return 'no heartbeat renewed the leases in time: appends stopped'
    return null
  }

  /** Joins the group and runs the first rebalance; later ones follow every heartbeat. */
  async start(): Promise<void> {
    await this.coordinator.join()
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
    for (const slot of this.running.slots.values()) if (!slot.isStopping) void this.handOver(slot.partition)
    await this.running.settled()
    await this.coordinator.leave()
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
    const { timing, logger } = this.c
    const sentAt = performance.now()
    let beat: Heartbeat
    try {
      beat = await this.coordinator.heartbeat()
    } catch (err) {
      // Nothing renewed: each running partition stops appending when its margin is reached.
      logger.warn({ err }, 'heartbeat failed')
      return
    }
    // The server set expires = its now() + lease, and its now() was no earlier than sentAt.
    this.validUntil = sentAt + timing.leaseMs - timing.appendMarginMs
    const held = new Map(beat.leases.map((l) => [l.partition, l.epoch]))
    for (const slot of this.running.slots.values()) {
      if (slot.isStopping) continue
      if (slot.failed !== null) {
        void this.running.forget(slot)
      } else if (slot.openedAt < sentAt && held.get(slot.partition) !== slot.epoch) {
        // (A slot opened after this heartbeat was sent may not be in its answer yet.)
        logger.warn({ partition: slot.partition, epoch: slot.epoch }, 'lease lost; partition stopped')
        void this.running.forget(slot)
      }
    }
    if (this.reconciling === null && !this.stopped) {
      this.reconciling = this.reconcile(beat, held)
        .catch((err: unknown) => logger.error({ err }, 'rebalance failed; retried next heartbeat'))
        .finally(() => (this.reconciling = null))
    }
    this.running.logProgress(beat.workers.length)
  }

  /** Hands over what is no longer this worker's and acquires what now is, all lease calls at once. */
  private async reconcile(beat: Heartbeat, held: Map<number, number>): Promise<void> {
    const { partitions } = this.c
    const slots = this.running.slots
    const mine = new Set(assignedPartitions(this.id, beat.workers, partitions))
    for (const slot of slots.values()) if (!mine.has(slot.partition) && !slot.isStopping) void this.handOver(slot.partition)
    const calls: Array<Promise<unknown>> = []
    for (const [partition, epoch] of held) {
      // A lease held with nothing running it: left by a previous run of this id, or by a partition that failed.
      if (!slots.has(partition) && !mine.has(partition)) calls.push(this.quietly(() => this.coordinator.release(partition, epoch), partition))
    }
    for (const partition of mine) {
      if (slots.has(partition)) continue
      calls.push(
        this.quietly(() => this.coordinator.acquire(partition), partition).then((epoch) => {
          if (epoch === null || epoch === undefined) return
          if (this.stopped || slots.has(partition)) return void this.quietly(() => this.coordinator.release(partition, epoch), partition)
          this.running.open(partition, epoch)
        }),
      )
    }
    await Promise.all(calls)
  }

  /** Stops a partition with a last checkpoint, then gives its lease up for the next owner. */
  private handOver(partition: number): Promise<void> {
    const slot = this.running.slots.get(partition)!
    return this.running.handOver(slot, () => this.quietly(() => this.coordinator.release(slot.partition, slot.epoch), slot.partition).then(() => undefined))
  }

  private async quietly<T>(call: () => Promise<T>, partition: number): Promise<T | undefined> {
    try {
      return await call()
    } catch (err) {
      this.c.logger.warn({ err, partition }, 'lease call failed; retried next heartbeat')
      return undefined
    }
  }
}
