import type { EngineClient } from '../engine/thread/protocol.ts'
import type { EventLog } from '../log/event-log.ts'
import type { StreamDefinition } from '../rules/index.ts'
import type { Logger } from '../logger.ts'
import type { PlayerStore } from '../players/player-store.ts'
import type { StateStore } from '../state/state-store.ts'
import type { Auth } from './auth.ts'
import type { Deduper } from '../ingest/dedupe.ts'
import type { ServerConfig } from './config.ts'
import type { ApiMetrics } from './metrics.ts'
import type { Signal } from './signal.ts'

/** What every route module receives: the server's wiring, built once in server.ts. */
import type { PredictionRunner } from './predictions/runner.ts'

export interface ApiContext {
  config: ServerConfig
  log: EventLog
  /** Partition count of the events topic (and of every output topic). */
  partitions: number
  engine: EngineClient
  /** The game API's players and outbox (src/players/), kept where the state store is. */
  players: PlayerStore
  /**
   * The state store (checkpoints, rule sets, erasure jobs, the audit trail): this thread's own handle
   * (the engine thread, when there is one, opens another).
   */
  state: StateStore
  auth: Auth
  metrics: ApiMetrics
  logger: Logger
  /**
   * The event_id de-duplication horizon (src/ingest/dedupe.ts): the collector's, which the
   * game's outbox relay consults too. startServer restores it from the log before listening.
   */
  deduper: Deduper
  /** Bytes of accepted request bodies whose append is still in flight (backpressure). */
  inflight: { bytes: number }
  /** Emitted when this server's warehouse sink has changed the warehouse's files (a flush, a merge), so query views follow at once. */
  warehouseFiles: Signal
  /** This server's prediction runs (docs/predictions.md); absent in servers built for a test of other routes. */
  predictions?: PredictionRunner
  /** The event streams of the rules file (docs/streams.md); absent: the defaults. */
  eventStreams?: readonly StreamDefinition[]
}

/** A route module: registers its routes on the app. */
export type RouteModule = (app: import('fastify').FastifyInstance, ctx: ApiContext) => Promise<void> | void
