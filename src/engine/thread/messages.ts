import type { DeadLetter } from '../../ingest/dead-letters.ts'
import type { EngineOptions } from '../engine-options.ts'
import type { WorkerOptions } from '../partition-worker.ts'
import type { EngineMethod, EngineQueryApi, EngineSnapshot } from './protocol.ts'

export interface EngineThreadData {
  logUrl: string
  /** State store URL: a directory (embedded) or postgres://…; see src/state/open-state.ts. */
  stateUrl: string
  partitions: number
  /** Where the rules are read from and runtime changes are saved. */
  rulesPath: string
  engine: Partial<EngineOptions>
  worker: Partial<WorkerOptions>
  snapshotIntervalMs: number
  logLevel: string
  /** The progress line's interval (EngineRunner.progressLogMs); absent: its default. */
  progressLogMs?: number
}

/** A query to the engine thread: one variant per EngineQueryApi method, its arguments typed by that method. */
export type EngineRequest = { [M in EngineMethod]: { type: 'request'; id: number; method: M; args: Parameters<EngineQueryApi[M]> } }[EngineMethod]

/** The answer a method's request resolves to. */
export type EngineAnswer<M extends EngineMethod> = Awaited<ReturnType<EngineQueryApi[M]>>

/** Records for the main thread to append to a partition of the events log (identity records), acknowledged once durable. */
export interface EventAppend {
  partition: number
  records: Array<{ key: string; value: Uint8Array; timestamp: number }>
}

export type ToEngine = EngineRequest | { type: 'stop' } | { type: 'appended'; id: number; error: string | null }

export interface SerializedError {
  name: string
  message: string
  line?: number
  column?: number
  path?: string
  expected?: string
}

export type FromEngine =
  | { type: 'response'; id: number; ok: true; result: unknown }
  | { type: 'response'; id: number; ok: false; error: SerializedError }
  | { type: 'snapshot'; snapshot: EngineSnapshot }
  /** A clock record for the main thread to append: it is the events log's one writer. */
  | { type: 'clock'; partition: number; time: number }
  /** Dead letters of poison records for the main thread to append: it writes the dead-letters log too. */
  | { type: 'dead-letters'; letters: DeadLetter[] }
  /** Identity records for the main thread to append; it answers `appended` with the same id once they are durable. */
  | ({ type: 'append-events'; id: number } & EventAppend)
  | { type: 'fatal'; error: SerializedError }
  | { type: 'stopped' }
