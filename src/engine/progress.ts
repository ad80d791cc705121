import type { PartitionWorker } from './partition-worker.ts'

/**
 * Seed 000's progress line (its function logged one per aggregation interval: runtime, processed
 * events, events per second, toggled, active and tagged users), for the engine partitions one
 * process runs: `serve`'s engine thread and each `tagstream worker` (docs/operations.md,
 * "Progress lines").
 */
export interface ProgressLine {
  /** Seconds since this process's engine started. */
  runtimeSeconds: number
  /** Events applied by this process since it started (events of partitions it no longer owns included). */
  processedEvents: number
  /** processedEvents / runtime. */
  eventsPerSecond: number
  /** Over the interval since the last line. */
  intervalEventsPerSecond: number
  /** Segment entries and exits in the interval. */
  toggledUsers: number
  /** Users an event was applied to in the interval. */
  activeUsers: number
  /** Users in at least one segment now. */
  taggedUsers: number
  /** Users held now. */
  users: number
}

/** Default interval between two lines: seed 000's aggregation ran once a minute. */
export const PROGRESS_INTERVAL_MS = 60_000

/**
 * Keeps what a progress line needs between two lines: `sample` takes the workers of the partitions
 * run now, and the caller `retire`s a worker before it drops it, so its events still count.
 */
export class Progress {
  private last: { at: number; processed: number; changes: number }

  constructor(private readonly started = performance.now()) {
    this.last = { at: started, processed: 0, changes: 0 }
  }

  /** Counts of partitions no longer run here (handed over, or replaced after a failure). */
  private retired = { processed: 0, changes: 0 }

  /** Call before a partition's worker is dropped: what it processed this run still counts. */
  retire(w: Pick<PartitionWorker, 'engine' | 'restored'>): void {
    this.retired.processed += w.engine.stats.processed - w.restored.processed
    this.retired.changes += w.engine.stats.segmentChanges - w.restored.changes
  }

  /** The line for the partitions run now; starts the next interval. */
  sample(workers: Iterable<Pick<PartitionWorker, 'engine' | 'restored'>>, now = performance.now()): ProgressLine {
    let processed = this.retired.processed
    let changes = this.retired.changes
    let active = 0
    let tagged = 0
    let users = 0
    for (const { engine: e, restored } of workers) {
      processed += e.stats.processed - restored.processed
      changes += e.stats.segmentChanges - restored.changes
      active += e.takeActive()
      for (const u of e.allUsers()) if (u.memberships > 0) tagged++
      users += e.userCount
    }
    const runtime = (now - this.started) / 1000
    const interval = (now - this.last.at) / 1000
    const line: ProgressLine = {
      runtimeSeconds: Math.round(runtime * 10) / 10,
      processedEvents: processed,
      eventsPerSecond: runtime > 0 ? Math.round(processed / runtime) : 0,
      intervalEventsPerSecond: interval > 0 ? Math.round((processed - this.last.processed) / interval) : 0,
      toggledUsers: changes - this.last.changes,
      activeUsers: active,
      taggedUsers: tagged,
      users,
    }
    this.last = { at: now, processed, changes }
    return line
  }
}
