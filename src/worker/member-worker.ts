import { setTimeout as sleep } from 'node:timers/promises'
import { TOPICS, WriterFencedError, type PartitionGroup } from '../log/event-log.ts'
import { FencedError } from '../state/state-store.ts'
import { PartitionsWorker, workerGroup, type GroupWorkerConfig } from './group-worker.ts'
import type { PartitionSlot } from './partition-slot.ts'
import { RunningPartitions } from './running-partitions.ts'

/** How long a rebalance waits for members to rejoin: each has this long to checkpoint what it gives up. */
export const REBALANCE_TIMEOUT_MS = 30_000
/** The longest wait before a failed partition is started again. */
const RESTART_MAX_MS = 30_000

/**
 * A worker whose partitions are given by the log's group protocol (Kafka's consumer groups,
 * cooperative: src/log/kafka/group/group-member.ts). An assigned partition starts at once: opening
 * its transactional writer fences every earlier owner at the broker, and its checkpoints carry the
 * writer's token. A revoked one is checkpointed and its writer closed before the group may hand it
 * on. A member that loses its membership (a pause, a cut network) revokes everything.
 *
 * A partition whose loop failed while still assigned here is started again: after a heartbeat for
 * a fault (Postgres or Kafka unreachable; doubling with each failure in a row, up to 30 s), after a
 * whole session when its writer was fenced. A fence
 * means another worker opened the partition's writer; if that one truly owns it now, this member
 * hears of its lost membership within the session and does not restart, and if instead this member
 * is the owner (the other was a zombie), restarting after the session takes the partition back.
 */
export class MemberWorker extends PartitionsWorker {
  protected readonly running: RunningPartitions
  private readonly member: PartitionGroup
  private timer: NodeJS.Timeout | null = null
  /** Per partition, failures in a row: its next restart's backoff. */
  private readonly streaks = new Map<number, number>()
  /** Partitions being revoked: a restart due meanwhile must not start them again. */
  private readonly revoking = new Set<number>()

  constructor(private readonly c: GroupWorkerConfig) {
    super()
    this.running = new RunningPartitions(c.id, { ...c, transactions: true })
    this.member = c.log.joinGroup!({
      group: workerGroup(c.worker.namespace),
      topic: TOPICS.events,
      partitions: c.partitions,
      member: c.id,
      sessionTimeoutMs: c.timing.sessionMs,
      heartbeatMs: c.timing.heartbeatMs,
      rebalanceTimeoutMs: Math.max(REBALANCE_TIMEOUT_MS, c.timing.sessionMs),
      logger: c.logger,
      onAssigned: (partitions) => {
        for (const p of partitions) this.assign(p)
      },
      onRevoked: async (partitions) => {
        await Promise.all(partitions.map((p) => this.revoke(p)))
      },
    })
  }

  get id(): string {
    return this.c.id
  }

  protected outOfGroup(): string | null {
    if (this.member.generation.id < 0) return 'not a member of the consumer group: joining it again'
    return null
  }

  async start(): Promise<void> {
    await this.member.start()
    this.schedule()
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    // Revokes (checkpoints) every partition, then leaves: the others rebalance at once.
    await this.member.stop()
    await this.running.settled()
    this.c.logger.info({ worker: this.id }, 'worker left the group')
  }

  private assign(partition: number): void {
    if (this.stopped || this.revoking.has(partition) || this.running.slots.has(partition)) return
    this.running.open(partition, this.member.generation.id)
  }

  /** Checkpoints and stops a partition the group takes away; it stays ours until this resolves. */
  private async revoke(partition: number): Promise<void> {
    this.revoking.add(partition)
    this.streaks.delete(partition)
    try {
      const slot = this.running.slots.get(partition)
      if (slot === undefined) return
      if (slot.isStopping) return await this.running.settled()
      await this.running.handOver(slot)
    } finally {
      this.revoking.delete(partition)
    }
  }

  /** Every heartbeat: failed partitions restarted (see the class comment), the progress line. */
  private schedule(): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      for (const slot of this.running.slots.values()) if (slot.failed !== null && !slot.isStopping) this.restart(slot)
      this.running.logProgress()
      this.schedule()
    }, this.c.timing.heartbeatMs)
  }

  private restart(slot: PartitionSlot): void {
    const fenced = slot.failed instanceof WriterFencedError || slot.failed instanceof FencedError
    // A partition that keeps failing (Postgres down for minutes) waits twice as long each time, up
    // to 30 s; one that ran for a while before failing starts over from a heartbeat.
    const streak = performance.now() - slot.openedAt > RESTART_MAX_MS ? 0 : (this.streaks.get(slot.partition) ?? 0)
    this.streaks.set(slot.partition, streak + 1)
    const wait = fenced ? this.c.timing.sessionMs : Math.min(RESTART_MAX_MS, this.c.timing.heartbeatMs * 2 ** streak)
    void this.running.forget(slot).then(async () => {
      // Unref'd: a restart still waiting must not keep a stopped worker's process alive.
      await sleep(wait, undefined, { ref: false })
      if (this.stopped || !this.member.owned().includes(slot.partition)) return
      this.c.logger.warn({ partition: slot.partition, fenced }, 'partition restarted after its loop failed')
      this.assign(slot.partition)
    })
  }
}
