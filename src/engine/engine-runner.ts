import { TOPICS, type EventLog } from '../log/event-log.ts'
import { Progress, PROGRESS_INTERVAL_MS, type ProgressLine } from './progress.ts'
import type { Logger } from '../logger.ts'
import type { StateStore } from '../state/state-store.ts'
import type { EngineOptions } from './engine-options.ts'
import type { EngineRules } from './engine-rules.ts'
import { DEFAULT_WORKER_OPTIONS, PartitionWorker, type WorkerOptions } from './partition-worker.ts'

/** After a partition fails, how long before it is restored from its checkpoint again (doubling). */
const RESTART_FIRST_MS = 1_000
const RESTART_MAX_MS = 30_000

/**
 * Runs the engine for a set of partitions in this process, one polling loop per partition. A
 * partition whose poll fails (a full disk refusing its outputs or checkpoint, a store that went
 * away) is restored from its last checkpoint after a pause and goes on: it replays from there, so
 * nothing is lost or doubled, and the engine resumes by itself once the cause is gone.
 */
export class EngineRunner {
  private running = false
  private loops: Promise<void>[] = []
  private failure: Error | null = null
  /** Partitions waiting to be restored after a failure. */
  private readonly down = new Set<number>()

  private constructor(
    readonly workers: PartitionWorker[],
    private readonly make: (partition: number, rules: EngineRules) => PartitionWorker,
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
    const make = (p: number, r: EngineRules) => new PartitionWorker(log, store, r, options, p, wo, logger)
    const workers = partitions.map((p) => make(p, rules))
    for (const w of workers) await w.restore()
    return new EngineRunner(workers, make, logger)
  }

  /** Seed 000's progress line every this often (docs/operations.md, "Progress lines"); 0 = never. */
  progressLogMs = PROGRESS_INTERVAL_MS
  private readonly progress = new Progress()
  private progressTimer: NodeJS.Timeout | null = null
  /** The last progress line logged: `serve` shows it as Prometheus series (progress-metrics.ts). */
  lastProgress: ProgressLine | null = null

  start(): void {
    if (this.running) return
    this.running = true
    if (this.progressLogMs > 0) {
      this.progressTimer = setInterval(() => {
        this.lastProgress = this.progress.sample(this.workers)
        this.logger?.info({ partitions: this.workers.length, ...this.lastProgress }, 'engine progress')
      }, this.progressLogMs)
      this.progressTimer.unref()
    }
    this.loops = this.workers.map(async (_, i) => {
      let pause = RESTART_FIRST_MS
      while (this.running) {
        const w = this.workers[i]!
        try {
          // An empty poll that did not wait (rare) must still let timers and messages run.
          if ((await w.poll()) === 0) await new Promise((resolve) => setImmediate(resolve))
          pause = RESTART_FIRST_MS
        } catch (err) {
          // A failed poll stops this partition, not the process: the checkpoint still holds.
          this.failure = err as Error
          this.down.add(w.partition)
          this.logger?.error({ err, partition: w.partition, retryInMs: pause }, 'engine partition stopped; restoring it from its checkpoint')
          await this.restart(i, pause)
          pause = Math.min(RESTART_MAX_MS, pause * 2)
        }
      }
    })
  }

  /** Replaces partition i's worker with one restored from the checkpoint, after `pause` (unless stopping). */
  private async restart(i: number, pause: number): Promise<void> {
    const old = this.workers[i]!
    for (let waited = 0; waited < pause && this.running; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100))
    if (!this.running) return
    const fresh = this.make(old.partition, old.baseRules)
    try {
      await fresh.restore()
    } catch (err) {
      this.logger?.warn({ err, partition: old.partition }, 'engine partition could not be restored yet')
      return
    }
    this.progress.retire(old)
    this.workers[i] = fresh
    this.down.delete(old.partition)
    if (this.down.size === 0) this.failure = null
    this.logger?.info({ partition: old.partition, nextOffset: fresh.nextOffset }, 'engine partition restored after a failure')
  }

  /** Processes until every partition has caught up with the log's end as it is now. */
  async drain(log: EventLog): Promise<void> {
    // Rounds until one in which no partition read a record: identity records (a claim's answer, a
    // forwarded event) that one partition appends to another during a round are read in the next.
    for (;;) {
      const before = this.workers.reduce((n, w) => n + w.nextOffset, 0)
      await Promise.all(
        this.workers.map(async (w) => {
          const { end } = await log.offsets(TOPICS.events, w.partition)
          while (w.nextOffset < end) await w.poll(0)
          await w.flushOutputs()
        }),
      )
      if (this.workers.reduce((n, w) => n + w.nextOffset, 0) === before) return
    }
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

  /** The progress line now, starting the next interval (what the timer logs). */
  sampleProgress(): ProgressLine {
    return this.progress.sample(this.workers)
  }

  async stop(): Promise<void> {
    this.running = false
    if (this.progressTimer) clearInterval(this.progressTimer)
    await Promise.all(this.loops)
    for (const w of this.workers) {
      // A partition that failed keeps its last written checkpoint: nothing newer to save.
      if (this.down.has(w.partition)) continue
      await w.checkpoint()
    }
  }
}
