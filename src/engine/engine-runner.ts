import { TOPICS, type EventLog } from '../log/event-log.ts'
import type { Logger } from '../logger.ts'
import type { StateStore } from '../state/state-store.ts'
import type { EngineOptions } from './engine-options.ts'
import type { EngineRules } from './engine-rules.ts'
import { DEFAULT_WORKER_OPTIONS, PartitionWorker, type WorkerOptions } from './partition-worker.ts'

/** Runs the engine for a set of partitions in this process, one polling loop per partition. */
export class EngineRunner {
  private running = false
  private loops: Promise<void>[] = []
  private failure: Error | null = null

  private constructor(
    readonly workers: PartitionWorker[],
    private readonly logger?: Logger,
  ) {}

  static async create(
    log: EventLog,
    store: StateStore,
    rules: EngineRules,
    options: EngineOptions,
    partitions: readonly number[],
    worker: Partial<WorkerOptions> = {},
    logger?: Logger,
  ): Promise<EngineRunner> {
    const wo = { ...DEFAULT_WORKER_OPTIONS, ...worker }
    const workers = partitions.map((p) => new PartitionWorker(log, store, rules, options, p, wo, logger))
    for (const w of workers) await w.restore()
    return new EngineRunner(workers, logger)
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.loops = this.workers.map(async (w) => {
      while (this.running) {
        try {
          // An empty poll that did not wait (rare) must still let timers and messages run.
          if ((await w.poll()) === 0) await new Promise((resolve) => setImmediate(resolve))
        } catch (err) {
          // A failed poll stops this partition, not the process: the checkpoint still holds.
          this.failure = err as Error
          this.logger?.error({ err, partition: w.partition }, 'engine partition stopped')
          return
        }
      }
    })
  }

  /** Processes until every partition has caught up with the log's end as it is now. */
  async drain(log: EventLog): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        const { end } = await log.offsets(TOPICS.events, w.partition)
        while (w.nextOffset < end) await w.poll(0)
        await w.flushOutputs()
      }),
    )
  }

  /** Lag per partition in events: end of the events log minus the next offset to process. */
  async lag(log: EventLog): Promise<Map<number, number>> {
    const out = new Map<number, number>()
    for (const w of this.workers) out.set(w.partition, (await log.offsets(TOPICS.events, w.partition)).end - w.nextOffset)
    return out
  }

  get error(): Error | null {
    return this.failure
  }

  async stop(): Promise<void> {
    this.running = false
    await Promise.all(this.loops)
    for (const w of this.workers) await w.checkpoint()
  }
}
