import type { EngineOptions } from '../engine/engine-options.ts'
import type { EngineRules } from '../engine/engine-rules.ts'
import type { WorkerOptions } from '../engine/partition-worker.ts'
import type { ProgressLine } from '../engine/progress.ts'
import type { EventLog } from '../log/event-log.ts'
import type { Logger } from '../logger.ts'
import type { StateStore } from '../state/state-store.ts'
import type { RunningPartitions } from './running-partitions.ts'
import type { CoordinationTiming } from './timing.ts'

export { partitionWriterId } from './running-partitions.ts'

/**
 * One member of a group of engine workers (`tagstream worker`): it runs the partitions the group
 * gives it and hands them over when asked. Two ways to share them (docs/deployment.md):
 * member-worker.ts, Kafka's consumer-group protocol with transactional outputs (the default on
 * Kafka), and lease-worker.ts, Postgres leases (embedded logs and `--transactions off`).
 */
export interface GroupWorker {
  readonly id: string
  /** Joins and resolves once the first assignment runs. */
  start(): Promise<void>
  /** Leaves cleanly: every partition checkpointed and handed over at once. */
  stop(): Promise<void>
  /** Partitions running here now, in order. */
  owned(): number[]
  /** Per partition running here: events of its log not yet processed (the worker's /metrics). */
  lag(): Promise<Map<number, number>>
  /** Null while the worker is in its group and its partitions run; else why not (its /healthz). */
  trouble(): string | null
}

export interface GroupWorkerConfig {
  id: string
  log: EventLog
  store: StateStore
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

/** What both kinds share: the partitions running here, and what is read from them. */
export abstract class PartitionsWorker implements GroupWorker {
  protected stopped = false
  protected abstract readonly running: RunningPartitions
  abstract readonly id: string
  abstract start(): Promise<void>
  abstract stop(): Promise<void>
  /** Why the worker is out of its group now (its membership, or its leases), or null. */
  protected abstract outOfGroup(): string | null

  lag(): Promise<Map<number, number>> {
    return this.running.lag()
  }

  owned(): number[] {
    return this.running.owned()
  }

  trouble(): string | null {
    if (this.stopped) return 'stopping'
    return this.outOfGroup() ?? this.running.failure()
  }
}

/** The consumer group of a namespace's workers (without the log's prefix, which the log adds). */
export function workerGroup(namespace: string): string {
  return `tagstream-workers-${namespace}`
}

/** True when the log's own group protocol shares the partitions: it has one, and outputs are transactional (the broker fences a zombie's). */
export function usesGroupProtocol(log: EventLog, transactions: boolean): boolean {
  return transactions && log.transactional !== undefined && log.joinGroup !== undefined
}
