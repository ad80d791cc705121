import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { engineOptions } from '../engine/engine-options.ts'
import { prepareRules } from '../engine/engine-rules.ts'
import { DEFAULT_WORKER_OPTIONS, type WorkerOptions } from '../engine/partition-worker.ts'
import { loadRulesSource } from '../engine/rules-source.ts'
import { openEventLog } from '../log/open-log.ts'
import { createLogger, type Logger } from '../logger.ts'
import { isPostgresUrl, openStateStore } from '../state/open-state.ts'
import { redactUrl } from '../state/postgres/url.ts'
import { checkTiming, DEFAULT_TIMING, type CoordinationTiming } from '../worker/timing.ts'
import { WorkerMetricsServer } from '../worker/metrics-server.ts'
import type { ProgressLine } from '../engine/progress.ts'
import type { GroupWorker, GroupWorkerConfig } from '../worker/group-worker.ts'
import { isKafkaUrl } from '../log/kafka/connection-url.ts'
import { processEnv, readEnv, readFlagOrEnv, type Env } from '../config/read-setting.ts'
import { SETTINGS } from '../config/settings.ts'
import type { GlobalOptions } from './options.ts'

/** Flags as commander hands them over: strings, validated by workerSettings. */
export interface WorkerFlags {
  state?: string
  segments?: string
  id?: string
  heartbeatMs?: string
  sessionMs?: string
  leaseMs?: string
  appendMarginMs?: string
  checkpointMs?: string
  transactions?: string
  commitMs?: string
  batchSize?: string
  clockTickMs?: string
  warehouse?: string
  metricsPort?: string
  metricsHost?: string
  progressMs?: string
}

export interface WorkerSettings {
  logUrl: string
  stateUrl: string
  segmentsPath: string
  /** The segments file was named (flag or env): a missing file is then an error, not "no segments". */
  segmentsNamed: boolean
  workerId: string
  /** Partitions of topics the worker creates when the log has none yet (an existing log keeps its own). */
  partitions: number
  timing: CoordinationTiming
  worker: WorkerOptions
  /** Outputs in Kafka transactions (the default); off only for comparison (docs/deployment.md). */
  transactions: boolean
  /** The worker's /metrics listener (src/worker/metrics-server.ts), or null (off, the default). */
  metrics: { host: string; port: number } | null
  /** The progress line's interval (GroupWorker's default when undefined). */
  progressLogMs?: number
}

/** Flags first, then TAGSTREAM_* variables, then the defaults named in docs/deployment.md; all parsed by src/config. */
export function workerSettings(global: GlobalOptions, flags: WorkerFlags, env: Env = processEnv()): WorkerSettings {
  const stateUrl = readFlagOrEnv(SETTINGS.state, flags.state, env)
  if (stateUrl === undefined || !isPostgresUrl(stateUrl)) {
    throw new Error(
      `tagstream worker needs --state postgres://host:port/db?schema=name (or TAGSTREAM_STATE): workers keep their checkpoints and users in Postgres${stateUrl === undefined ? '' : `; got "${stateUrl.includes('://') ? redactUrl(stateUrl) : stateUrl}"`}`,
    )
  }
  const named = readFlagOrEnv(SETTINGS.segments, flags.segments, env)
  const warehouse = readFlagOrEnv(SETTINGS.workerWarehouse, flags.warehouse, env)
  const metricsPort = readFlagOrEnv(SETTINGS.metricsPort, flags.metricsPort, env)
  const progressMs = readFlagOrEnv(SETTINGS.progressMs, flags.progressMs, env)
  const workerId = readFlagOrEnv(SETTINGS.workerId, flags.id, env) ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
  const logUrl = global.log ?? readEnv(SETTINGS.log, env) ?? join(global.data, 'log')
  const transactions = readFlagOrEnv(SETTINGS.transactions, flags.transactions, env) ?? true
  const timing = checkTiming(
    {
      heartbeatMs: readFlagOrEnv(SETTINGS.heartbeatMs, flags.heartbeatMs, env) ?? DEFAULT_TIMING.heartbeatMs,
      sessionMs: readFlagOrEnv(SETTINGS.sessionMs, flags.sessionMs, env) ?? DEFAULT_TIMING.sessionMs,
      leaseMs: readFlagOrEnv(SETTINGS.leaseMs, flags.leaseMs, env) ?? DEFAULT_TIMING.leaseMs,
      appendMarginMs: readFlagOrEnv(SETTINGS.appendMarginMs, flags.appendMarginMs, env) ?? DEFAULT_TIMING.appendMarginMs,
    },
    // Kafka's group protocol shares the partitions when outputs are transactional (runWorker); else leases.
    transactions && isKafkaUrl(logUrl),
  )
  return {
    // --log and TAGSTREAM_LOG are the program's (commander applied the variable); env covers callers without commander.
    logUrl,
    stateUrl,
    segmentsPath: named ?? join(global.data, 'segments.yaml'),
    segmentsNamed: named !== undefined,
    workerId,
    partitions: global.partitions,
    timing,
    transactions,
    ...(progressMs === undefined ? {} : { progressLogMs: progressMs }),
    metrics: metricsPort === undefined ? null : { host: readFlagOrEnv(SETTINGS.metricsHost, flags.metricsHost, env) ?? '127.0.0.1', port: metricsPort },
    worker: {
      ...DEFAULT_WORKER_OPTIONS,
      checkpointIntervalMs: readFlagOrEnv(SETTINGS.checkpointMs, flags.checkpointMs, env) ?? DEFAULT_WORKER_OPTIONS.checkpointIntervalMs,
      commitIntervalMs: readFlagOrEnv(SETTINGS.commitMs, flags.commitMs, env) ?? 100,
      batchSize: readFlagOrEnv(SETTINGS.batchSize, flags.batchSize, env) ?? DEFAULT_WORKER_OPTIONS.batchSize,
      clockTickMs: readFlagOrEnv(SETTINGS.clockTickMs, flags.clockTickMs, env) ?? DEFAULT_WORKER_OPTIONS.clockTickMs,
      // A tenant's new aggregates are filled from it (docs/tenancy.md): a directory the sink writes, read only.
      warehouseRoot: warehouse === undefined ? null : resolve(warehouse),
    },
  }
}

/** Resolves on the first SIGINT or SIGTERM. */
function signalled(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string) => {
      process.off('SIGINT', on)
      process.off('SIGTERM', on)
      resolve(signal)
    }
    process.on('SIGINT', on)
    process.on('SIGTERM', on)
  })
}

/** Runs one worker of the group until `stop` resolves, then hands its partitions over and closes everything it opened. */
export async function runWorker(s: WorkerSettings, logger: Logger, stop: Promise<unknown>): Promise<void> {
  if (s.segmentsNamed && !existsSync(s.segmentsPath)) throw new Error(`segments file not found: ${s.segmentsPath}`)
  if (!s.segmentsNamed && !existsSync(s.segmentsPath)) logger.warn({ segments: s.segmentsPath }, 'no segments file: running with no segments or triggers')
  const options = engineOptions()
  // Rules are parsed before anything is opened: a typo fails fast with its line and column.
  const rules = prepareRules(loadRulesSource(s.segmentsPath), options)
  const closers: Array<() => Promise<void>> = []
  try {
    const { log, partitions } = await openEventLog(s.logUrl, { partitions: s.partitions, retentionCheckMs: 0 })
    closers.push(() => log.close())
    const store = await openStateStore(s.stateUrl, { logger })
    closers.push(() => store.close())
    // The group code (and pg) loads when a worker runs, not when the CLI starts.
    const { usesGroupProtocol } = await import('../worker/group-worker.ts')
    let makeGroup: (c: GroupWorkerConfig) => GroupWorker
    if (usesGroupProtocol(log, s.transactions)) {
      const { MemberWorker } = await import('../worker/member-worker.ts')
      makeGroup = (c) => new MemberWorker(c)
    } else {
      const { PostgresCoordinator } = await import('../worker/postgres/coordinator.ts')
      const { LeaseWorker } = await import('../worker/lease-worker.ts')
      const coordinator = await PostgresCoordinator.open(s.stateUrl, { namespace: s.worker.namespace, workerId: s.workerId, leaseMs: s.timing.leaseMs, lockTimeoutMs: s.timing.heartbeatMs, logger })
      closers.push(() => coordinator.close())
      makeGroup = (c) => new LeaseWorker(c, coordinator)
    }
    const metrics = s.metrics === null ? null : await WorkerMetricsServer.start(s.metrics.host, s.metrics.port)
    if (metrics !== null) closers.push(() => metrics.close())
    const onProgress = metrics === null ? undefined : (worker: string, line: ProgressLine) => metrics.record(worker, line)
    const group = makeGroup({
      id: s.workerId,
      log,
      store,
      rules,
      engine: options,
      partitions,
      worker: s.worker,
      transactions: s.transactions,
      timing: s.timing,
      logger,
      ...(onProgress ? { onProgress } : {}),
      ...(s.progressLogMs === undefined ? {} : { progressLogMs: s.progressLogMs }),
    })
    await group.start()
    metrics?.watch(group)
    logger.info({ worker: group.id, partitions, owned: group.owned(), metrics: metrics?.url ?? null }, 'worker joined the group')
    console.log(
      JSON.stringify({ worker: group.id, partitions, log: s.logUrl, state: redactUrl(s.stateUrl), segments: s.segmentsPath, ...(metrics === null ? {} : { metrics: `${metrics.url}/metrics` }) }),
    )
    await stop
    await group.stop()
  } finally {
    for (const close of closers.reverse()) await close().catch((err: unknown) => logger.warn({ err }, 'close failed'))
  }
}

/** `tagstream worker`'s action (worker-command.ts registers the command): runs until SIGINT or SIGTERM. */
export async function workerCommand(global: GlobalOptions, flags: WorkerFlags): Promise<void> {
  const env = processEnv()
  const settings = workerSettings(global, flags, env)
  const logger = createLogger('worker', readEnv(SETTINGS.logLevel, env) ?? 'info')
  const stop = signalled().then((signal) => logger.info({ signal }, 'stopping: handing partitions over'))
  await runWorker(settings, logger, stop)
}
