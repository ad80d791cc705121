import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { appendClockRecord } from '../engine/partition-worker.ts'
import { EngineThreadClient } from '../engine/thread/engine-client.ts'
import type { EngineClient } from '../engine/thread/protocol.ts'
import { appendDeadLetters, type DeadLetter } from '../ingest/dead-letters.ts'
import { openEventLog } from '../log/open-log.ts'
import { createLogger, type Logger } from '../logger.ts'
import { openStateStore } from '../state/open-state.ts'
import type { StateStore } from '../state/state-store.ts'
import { buildApp } from './app.ts'
import { Auth } from './auth.ts'
import type { ServerConfig } from './config.ts'
import type { ApiContext } from './context.ts'
import { openCollectorEngine } from './engine-store/index.ts'
import { ApiMetrics } from './metrics.ts'
import { startWebhooks } from './webhooks/index.ts'
import { startSinkThread } from '../warehouse/thread/sink-thread-client.ts'

export interface RunningServer {
  url: string
  ctx: ApiContext
  app: FastifyInstance
  /** Where runtime segment changes are saved. */
  rulesPath: string
  close(): Promise<void>
}

/**
 * Wires `tagstream serve`: the event log, the engine in its own thread, and the HTTP API.
 * Ordering: the log is opened (and its topics created) before the engine thread opens it too.
 * With `engine: false` no engine runs: reads come from the workers' checkpoints (src/api/engine-store).
 */
export async function startServer(config: ServerConfig, logger: Logger = createLogger('tagstream')): Promise<RunningServer> {
  mkdirSync(resolve(config.dataDir), { recursive: true })
  const logUrl = config.logUrl.includes('://') ? config.logUrl : resolve(config.logUrl)
  const { log, partitions } = await openEventLog(logUrl, { partitions: config.partitions, retentionMs: config.retentionDays * 86_400_000 })
  const stateUrl = config.stateUrl.includes('://') ? config.stateUrl : resolve(config.stateUrl)
  const rulesPath = resolve(config.segmentsPath ?? join(config.dataDir, 'segments.yaml'))
  let engine: EngineClient
  let store: StateStore
  if (config.engine) {
    const thread = new EngineThreadClient(
      { logUrl, stateUrl, partitions, rulesPath, engine: {}, worker: { clockTickMs: config.clockTickMs }, snapshotIntervalMs: 100, logLevel: logger.level },
      logger,
    )
    thread.onClock = (partition, time) => {
      appendClockRecord(log, partition, time).catch((err: unknown) => logger.warn({ err, partition }, 'clock record not appended; the next one will be'))
    }
    // The engine's poison records (docs/engine.md): this thread is the dead-letters log's writer.
    thread.onDeadLetters = (letters) => {
      appendDeadLetters(log, letters, partitions).catch((err: unknown) => logger.error({ err, count: letters.length }, 'dead letters of poison records not appended'))
    }
    engine = thread
    try {
      await thread.ready()
    } catch (err) {
      await engine.close()
      await log.close()
      throw err
    }
    try {
      store = await openStateStore(stateUrl, { logger })
    } catch (err) {
      await engine.close()
      await log.close()
      throw err
    }
  } else {
    const collector = await openCollectorEngine({ log, stateUrl, partitions, rulesPath, logger }, { followsWallClock: config.clockTickMs > 0 })
    engine = collector.engine
    store = collector.store
  }
  const ctx: ApiContext = { config, log, partitions, engine, store, auth: new Auth(config.keys), metrics: new ApiMetrics(), logger, inflight: { bytes: 0 } }
  const app = await buildApp(ctx)
  let url: string
  try {
    url = await app.listen({ host: config.host, port: config.port })
  } catch (err) {
    await engine.close()
    await store.close()
    await log.close()
    throw err
  }
  const webhooks = startWebhooks(ctx)
  // The main thread is the embedded log's writer: the sink thread's dead letters (poison records) come here.
  const sinkLetters = (letters: DeadLetter[]) => {
    appendDeadLetters(log, letters, partitions).catch((err: unknown) => logger.error({ err, count: letters.length }, 'dead letters of the warehouse sink not appended'))
  }
  const sink = config.warehouse ? await startSinkThread({ logUrl, root: resolve(config.dataDir, 'warehouse'), logLevel: logger.level, retentionDays: config.retentionDays }, sinkLetters) : null
  logger.info({ url, partitions, rulesPath, webhooks: config.webhooks.length, engine: config.engine }, 'tagstream serving')
  let closing: Promise<void> | null = null
  return {
    url,
    ctx,
    app,
    rulesPath,
    close() {
      closing ??= (async () => {
        await webhooks.stop()
        await app.close()
        await sink?.stop()
        await engine.close()
        await store.close()
        await log.close()
      })()
      return closing
    },
  }
}
