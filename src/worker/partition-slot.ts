import { setImmediate as yieldToLoop } from 'node:timers/promises'
import type { PartitionWorker } from '../engine/partition-worker.ts'
import type { Logger } from '../logger.ts'
import { WriterFencedError } from '../log/event-log.ts'
import { FencedError } from '../state/state-store.ts'

/** An append refused because this worker's lease on the partition may already be someone else's. */
export class LeaseLostError extends Error {
  constructor(partition: number, epoch: number) {
    super(`lease of partition ${partition} (epoch ${epoch}) lost or about to expire: outputs not appended`)
    this.name = 'LeaseLostError'
  }
}

/**
 * One partition this process holds a lease on: the PartitionWorker and its polling loop. `done`
 * settles when the loop has ended (stopped, lost or failed).
 */
export class PartitionSlot {
  private lost = false
  private stopping = false
  private failure: Error | null = null
  private worker: PartitionWorker | null = null
  /** Events processed since the slot started. */
  processed = 0

  /** The partition's worker, once restored (the progress line reads it). */
  get partitionWorker(): PartitionWorker | null {
    return this.worker
  }
  /** performance.now() when the lease was granted (the acquire had committed). */
  readonly openedAt = performance.now()
  done: Promise<void> = Promise.resolve()

  constructor(
    readonly partition: number,
    readonly epoch: number,
    /** performance.now() until which outputs may be appended: the worker's last heartbeat plus lease minus margin. */
    private readonly validUntil: () => number,
    private readonly logger: Logger,
  ) {}

  /** Throws once the lease is lost or within the append margin of expiring. Checked before every output append. */
  guard = (): void => {
    if (this.lost || performance.now() >= this.validUntil()) throw new LeaseLostError(this.partition, this.epoch)
  }

  /** Runs the worker `make` gives; `close` (its transactional writer's connections) once the loop has ended and any last checkpoint is written. */
  start(make: () => PartitionWorker | Promise<PartitionWorker>, close: () => Promise<void> = async () => undefined): void {
    this.done = this.run(make)
    this.close = close
  }

  private close: () => Promise<void> = async () => undefined

  /** Another worker holds the partition now: stop at once, append nothing more, write no checkpoint. */
  lose(): void {
    this.lost = true
    this.stopping = true
  }

  get isLost(): boolean {
    return this.lost
  }

  get failed(): Error | null {
    return this.failure
  }

  get isStopping(): boolean {
    return this.stopping
  }

  /** Stops the loop and, unless the lease was lost or the loop failed, writes a last (fenced) checkpoint. */
  async stop(): Promise<void> {
    this.stopping = true
    await this.done
    try {
      if (this.lost || this.failure !== null || this.worker === null) return
      await this.worker.checkpoint()
    } finally {
      await this.ended()
    }
  }

  /** Closes what the run held, once; for a slot dropped without stop() (lost, failed), after its loop. */
  async ended(): Promise<void> {
    const close = this.close
    this.close = async () => undefined
    await close().catch((err: unknown) => this.logger.warn({ err, partition: this.partition }, 'closing the partition writer failed'))
  }

  private async run(make: () => PartitionWorker | Promise<PartitionWorker>): Promise<void> {
    try {
      const worker = await make()
      await worker.restore()
      this.worker = worker
      while (!this.stopping) {
        const n = await worker.poll()
        this.processed += n
        // An empty poll that did not wait (rare) must still let timers and messages run.
        if (n === 0) await yieldToLoop()
      }
    } catch (err) {
      this.failure = err as Error
      // Losing a lease is part of the protocol (a pause, a network cut); anything else is a fault.
      const level = err instanceof LeaseLostError || err instanceof FencedError || err instanceof WriterFencedError || this.lost ? 'warn' : 'error'
      this.logger[level]({ err, partition: this.partition, epoch: this.epoch }, 'partition stopped')
    }
  }
}
