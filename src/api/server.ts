import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { appendClockRecord } from '../engine/worker-helpers.ts'
import { EngineThreadClient } from '../engine/thread/engine-client.ts'
import { EngineSupervisor } from '../engine/thread/engine-supervisor.ts'
import type { EngineThreadData } from '../engine/thread/messages.ts'
import type { EngineClient } from '../engine/thread/protocol.ts'
import { DEFAULT_RELAY, OutboxRelay, SHARED_STORE_GRACE_MS } from '../game/outbox-relay.ts'
import { appendDeadLetters, type DeadLetter } from '../ingest/dead-letters.ts'
import { Deduper } from '../ingest/dedupe.ts'
import { restoreDedupe } from '../ingest/dedupe-restore.ts'
import { eventStreamTopic, TOPICS } from '../log/event-log.ts'
import { openEventLog } from '../log/open-log.ts'
import { createLogger, type Logger } from '../logger.ts'
import type { StateStore } from '../state/state-store.ts'
import { openStateStore } from '../state/open-state.ts'
import { openPlayerStore } from '../players/open-players.ts'
import type { PlayerStore } from '../players/player-store.ts'
import { buildApp } from './app.ts'
import { Auth } from './auth.ts'
import type { ServerConfig } from './config.ts'
import type { ApiContext } from './context.ts'
import { openCollectorEngine } from './engine-store/index.ts'
import { ApiMetrics } from './metrics.ts'
import { checkWebhookStreams, startWebhooks } from './webhooks/index.ts'
import { startSinkThread } from '../warehouse/thread/sink-thread-client.ts'
import { Signal } from './signal.ts'
import { DEFAULT_ERASER_OPTIONS, Eraser } from './privacy/eraser.ts'
import { DEFAULT_INBOX_OPTIONS, InboxFiller } from './inbox/inbox-filler.ts'
import { PredictionRunner } from './predictions/runner.ts'
import { warnShortHistory } from './predictions/history-warning.ts'
import { DEFAULT_SCHEDULE, PredictionSchedule } from '../predict/schedule.ts'
import { RunStore } from '../predict/run-store.ts'
import { buildSeedApp } from './seed-compat/seed-app.ts'
import { loadRulesSource } from '../engine/rules-source.ts'
import { effectiveStreams, type StreamDefinition } from '../rules/index.ts'

export interface RunningServer {
  url: string
  /** Where the seed routes listen (config.seed), or null. */
  seedUrl: string | null
  ctx: ApiContext
  app: FastifyInstance
  /** Where runtime segment changes are saved. */
  rulesPath: string
  close(): Promise<void>
}

/**
 * Wires `tagstream serve`: the event log, the engine in its own thread (restarted when it dies), and the HTTP API.
 * Ordering: the log is opened (and its topics created) before the engine thread opens it too.
 * With `engine: false` no engine runs: reads come from the workers' checkpoints (src/api/engine-store).
 */
export async function startServer(config: ServerConfig, logger: Logger = createLogger('tagstream')): Promise<RunningServer> {
  mkdirSync(resolve(config.dataDir), { recursive: true })
  const logUrl = config.logUrl.includes('://') ? config.logUrl : resolve(config.logUrl)
  const { log, partitions } = await openEventLog(logUrl, { partitions: config.partitions, retentionMs: config.retentionDays * 86_400_000 })
  const stateUrl = config.stateUrl.includes('://') ? config.stateUrl : resolve(config.stateUrl)
  const rulesPath = resolve(config.segmentsPath ?? join(config.dataDir, 'segments.yaml'))
  // The event streams' logs (docs/streams.md), made here before the engine thread opens the log:
  // an embedded log learns of topics when it is opened.
  let eventStreams: StreamDefinition[]
  try {
    eventStreams = effectiveStreams(loadRulesSource(rulesPath).streams)
  } catch (err) {
    // The engine thread fails on the same file and the server stays up, degraded, until it is
    // mended (docs/operations.md): the streams are the defaults until a restart reads it.
    logger.warn({ err, rulesPath }, 'rules file unreadable: event streams are the defaults until the server restarts')
    eventStreams = effectiveStreams(undefined)
  }
  try {
    checkWebhookStreams(
      config.webhooks,
      eventStreams.map((s) => s.name),
    )
    for (const s of eventStreams) await log.createTopic(eventStreamTopic(s.name), { partitions })
  } catch (err) {
    await log.close()
    throw err
  }
  const metrics = new ApiMetrics()
  let engine: EngineClient
  /** The workers' checkpoints, read by a collector (`engine: false`); the engine thread opens its own. */
  let state: StateStore | null = null
  if (config.engine) {
    // A tenant's new aggregates are filled from the warehouse this server writes (docs/tenancy.md).
    const warehouseRoot = config.warehouse ? resolve(config.dataDir, 'warehouse') : null
    const data: EngineThreadData = {
      logUrl,
      stateUrl,
      partitions,
      rulesPath,
      engine: {},
      worker: { clockTickMs: config.clockTickMs, warehouseRoot },
      snapshotIntervalMs: 100,
      logLevel: logger.level,
      progressLogMs: config.progressMs,
    }
    // One stable client for the server's life: a thread that dies is replaced behind it (docs/operations.md).
    const supervisor = new EngineSupervisor(() => new EngineThreadClient(data, logger), logger, {
      onClock: (partition, time) => {
        appendClockRecord(log, partition, time).catch((err: unknown) => logger.warn({ err, partition }, 'clock record not appended; the next one will be'))
      },
      // The engine's poison records (docs/engine.md): this thread is the dead-letters log's writer.
      onDeadLetters: (letters) => {
        appendDeadLetters(log, letters, partitions).catch((err: unknown) => logger.error({ err, count: letters.length }, 'dead letters of poison records not appended'))
      },
      // The engine's identity records for other partitions (docs/identity.md): durable before it checkpoints.
      onAppendEvents: ({ partition, records }) => log.append(TOPICS.events, partition, records),
      onRestart: () => metrics.engineThreadRestarts.inc(),
    })
    engine = supervisor
    try {
      await supervisor.start()
    } catch (err) {
      await engine.close()
      await log.close()
      throw err
    }
  } else {
    const collector = await openCollectorEngine({ log, stateUrl, partitions, rulesPath, logger }, { followsWallClock: config.clockTickMs > 0 })
    engine = collector.engine
    state = collector.store
  }
  // The game's players, kept where the state store is (src/players/open-players.ts).
  let players: PlayerStore
  try {
    // The API's own handle on the state store (erasures, the audit trail): the engine thread has its own.
    state ??= await openStateStore(stateUrl, { logger })
    players = await openPlayerStore(stateUrl, { logger })
  } catch (err) {
    await engine.close()
    await state?.close()
    await log.close()
    throw err
  }
  const closeStores = async () => {
    await players.close()
    await state?.close()
  }
  // Before the first request: a client retrying a batch accepted before a crash gets `duplicates`.
  const deduper = new Deduper(config.dedupe)
  try {
    const began = Date.now()
    const restored = await restoreDedupe(deduper, log, partitions, began)
    logger.info({ ...restored, ms: Date.now() - began }, 'event_id dedupe horizon restored from the log')
  } catch (err) {
    await engine.close()
    await closeStores()
    await log.close()
    throw err
  }
  // Prediction runs (docs/predictions.md) in threads of their own: by hand through the API, and daily.
  const predictions = new PredictionRunner({ dataDir: config.dataDir, logUrl, partitions }, (r) => metrics.predictions.record(r))
  const ctx: ApiContext = {
    config,
    log,
    partitions,
    engine,
    players,
    state,
    auth: new Auth(config.keys),
    metrics,
    logger,
    inflight: { bytes: 0 },
    deduper,
    warehouseFiles: new Signal(),
    eventStreams,
    predictions,
  }
  const app = await buildApp(ctx)
  let url: string
  try {
    url = await app.listen({ host: config.host, port: config.port })
  } catch (err) {
    await engine.close()
    await closeStores()
    await log.close()
    throw err
  }
  // Seeds 002 and 003's own routes on a port of their own (docs/game.md, "Seed commands").
  let seedApp: FastifyInstance | null = null
  let seedUrl: string | null = null
  if (config.seed.port !== null) {
    try {
      seedApp = await buildSeedApp(ctx, config.seed.tenant)
      seedUrl = await seedApp.listen({ host: config.host, port: config.seed.port })
    } catch (err) {
      await seedApp?.close()
      await app.close()
      await engine.close()
      await closeStores()
      await log.close()
      throw err
    }
  }
  const webhooks = startWebhooks(ctx)
  // Game events a crash or a refusing log left in the outbox (docs/game.md); after the dedupe restore.
  const relay = new OutboxRelay(
    players,
    { log, partitions, deduper, onAppended: (e) => ctx.metrics.ingestEvents.inc({ tenant: e.tenant }) },
    logger,
    { ...DEFAULT_RELAY, graceMs: stateUrl.startsWith('postgres') ? SHARED_STORE_GRACE_MS : 0 },
    (run) => {
      ctx.metrics.outboxRelayed.inc({ result: 'appended' }, run.appended)
      ctx.metrics.outboxRelayed.inc({ result: 'already_appended' }, run.alreadyAppended)
    },
  )
  relay.start()
  // The main thread is the embedded log's writer: the sink thread's dead letters (poison records) come here.
  const sinkLetters = (letters: DeadLetter[]) => {
    appendDeadLetters(log, letters, partitions).catch((err: unknown) => logger.error({ err, count: letters.length }, 'dead letters of the warehouse sink not appended'))
  }
  const sink = config.warehouse
    ? await startSinkThread({ logUrl, root: resolve(config.dataDir, 'warehouse'), logLevel: logger.level, retentionDays: config.retentionDays }, sinkLetters, () => ctx.warehouseFiles.emit())
    : null
  // Erasure jobs (docs/privacy.md): every server moves them on; the warehouse step where the sink runs.
  const eraser = new Eraser(log, ctx.state, partitions, sink, logger, DEFAULT_ERASER_OPTIONS, metrics)
  eraser.start()
  // Every server fills players' inboxes; the store's positions keep two from storing a record twice.
  const inbox = new InboxFiller(
    log,
    ctx.state.inbox,
    partitions,
    logger,
    { ...DEFAULT_INBOX_OPTIONS, maxPerPlayer: config.inbox.maxPerPlayer, ttlMs: config.inbox.ttlDays * 86_400_000 },
    {
      taken: (n) => metrics.inboxMessages.inc({ outcome: 'stored' }, n),
      dropped: (n) => metrics.inboxMessages.inc({ outcome: 'dropped' }, n),
      skipped: () => metrics.inboxMessages.inc({ outcome: 'skipped' }),
      held: (n) => metrics.inboxHeld.set(n),
    },
  )
  inbox.start()
  const schedule = config.predict.enabled
    ? new PredictionSchedule(new RunStore(config.dataDir), () => predictions.start('run'), logger, { ...DEFAULT_SCHEDULE, atMinute: config.predict.atMinute })
    : null
  schedule?.begin()
  warnShortHistory(config, logger)
  logger.info({ url, partitions, rulesPath, webhooks: config.webhooks.length, engine: config.engine }, 'tagstream serving')
  let closing: Promise<void> | null = null
  return {
    url,
    seedUrl,
    ctx,
    app,
    rulesPath,
    close() {
      closing ??= (async () => {
        await webhooks.stop()
        await seedApp?.close()
        await app.close()
        await relay.stop()
        await eraser.stop()
        await inbox.stop()
        await schedule?.stop()
        await predictions.stop()
        await sink?.stop()
        await engine.close()
        await closeStores()
        await log.close()
      })()
      return closing
    },
  }
}
