import type { Logger } from '../logger.ts'
import { DAY_MS } from './predict-options.ts'
import { RunBusyError } from './run.ts'
import type { RunRecord, RunStore } from './run-store.ts'

export interface ScheduleOptions {
  /** Minutes after 00:00 UTC the daily run starts. */
  readonly atMinute: number
  /** A failed day's run is tried again after this long, up to `attemptsPerDay` times. */
  readonly retryMs: number
  readonly attemptsPerDay: number
  /** How often the schedule looks at the clock. */
  readonly checkMs: number
}

export const DEFAULT_SCHEDULE: ScheduleOptions = { atMinute: 30, retryMs: 3_600_000, attemptsPerDay: 3, checkMs: 30_000 }

/**
 * The daily prediction run inside `serve` (docs/predictions.md, "Schedule"): once a day at
 * `atMinute` UTC, a `run` (train, then score). A day whose run succeeded is done, also across a
 * restart (the run records say so); a server started after the day's time waits for the next
 * day's unless daily runs have happened in its data directory before (then it catches up); a failed run leaves the last published scores as they are and
 * is tried again `retryMs` later, at most `attemptsPerDay` times. Runs never overlap: one at a time
 * here, and the run lock against runs started elsewhere (a busy lock counts as no attempt).
 */
export class PredictionSchedule {
  private timer: NodeJS.Timeout | null = null
  private running: { done: Promise<void>; stop: () => Promise<void> } | null = null
  private attempts = { day: -1, count: 0, lastAt: 0 }
  /** When this schedule began: a slot passed before then is not caught up on a new data directory. */
  private since = 0

  constructor(
    private readonly store: RunStore,
    private readonly start: () => { done: Promise<RunRecord>; stop: () => Promise<void> },
    private readonly logger: Logger,
    private readonly options: ScheduleOptions = DEFAULT_SCHEDULE,
    private readonly now: () => number = Date.now,
    private readonly onRun?: (r: RunRecord) => void,
  ) {}

  begin(): void {
    this.since = this.now()
    this.timer = setInterval(() => this.check(), this.options.checkMs)
    this.timer.unref()
    this.check()
  }

  /** The start of today's slot (epoch ms). */
  slotOf(now: number): number {
    return Math.floor(now / DAY_MS) * DAY_MS + this.options.atMinute * 60_000
  }

  /** Whether a run should start now. */
  due(now: number): boolean {
    const slot = this.slotOf(now)
    if (now < slot) return false
    const day = Math.floor(now / DAY_MS)
    if (this.attempts.day !== day) {
      const runs = this.store.list(10).filter((r) => r.kind === 'run')
      // Today's succeeded daily run (before a restart) counts. A server started after today's time
      // catches up only where daily runs have happened before (a restart that missed one), not on
      // a new data directory, where the first run is at the next day's time.
      const done = runs.some((r) => r.status === 'succeeded' && Date.parse(r.startedAt) >= slot) || (runs.length === 0 && this.since >= slot)
      this.attempts = { day, count: done ? this.options.attemptsPerDay + 1 : 0, lastAt: 0 }
    }
    if (this.attempts.count === 0) return true
    return this.attempts.count <= this.options.attemptsPerDay - 1 && now - this.attempts.lastAt >= this.options.retryMs
  }

  check(): void {
    if (this.running !== null) return
    const now = this.now()
    if (!this.due(now)) return
    const run = this.start()
    const done = run.done
      .then((r) => {
        this.attempts.count = r.status === 'succeeded' ? this.options.attemptsPerDay + 1 : this.attempts.count + 1
        this.attempts.lastAt = now
        this.onRun?.(r)
        if (r.status === 'succeeded') this.logger.info({ run: r.id, ms: r.timings.total }, 'prediction run succeeded')
        else this.logger.warn({ run: r.id, error: r.error }, 'prediction run failed: the last published scores stay')
      })
      .catch((err: unknown) => {
        this.attempts.lastAt = now
        // Busy: a run started elsewhere; looked at again next check. Anything else is an attempt.
        if (err instanceof RunBusyError) return this.logger.info({ heldBy: err.heldBy }, 'prediction run not started: another is going')
        this.attempts.count++
        this.logger.error({ err }, 'prediction run failed to start or stopped')
      })
      .finally(() => {
        this.running = null
      })
    this.running = { done, stop: run.stop }
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    const r = this.running
    if (r === null) return
    await r.stop()
    await r.done
  }
}
