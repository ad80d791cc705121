import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { Command } from 'commander'
import { engineOptions } from '../engine/engine-options.ts'
import { prepareRules } from '../engine/engine-rules.ts'
import { DEFAULT_WORKER_OPTIONS, type WorkerOptions } from '../engine/partition-worker.ts'
import { loadRulesSource } from '../engine/rules-source.ts'
import { openEventLog } from '../log/open-log.ts'
import { createLogger, type Logger } from '../logger.ts'
import { isPostgresUrl, openStateStore } from '../state/open-state.ts'
import { redactUrl } from '../state/postgres/url.ts'
import { checkTiming, DEFAULT_TIMING, type CoordinationTiming } from '../worker/timing.ts'

/** Flags as commander hands them over: strings, validated by workerSettings. */
export interface WorkerFlags {
  state?: string
  segments?: string
  id?: string
  heartbeatMs?: string
  leaseMs?: string
  appendMarginMs?: string
  checkpointMs?: string
  batchSize?: string
  clockTickMs?: string
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
}

type Env = Record<string, string | undefined>

function integer(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (value.trim() === '' || !Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer of at least ${min}, got "${value}"`)
  return n
}

/** Flags first, then TAGSTREAM_* variables, then the defaults named in docs/deployment.md. */
export function workerSettings(global: { data: string; log?: string; partitions: number }, flags: WorkerFlags, env: Env = process.env): WorkerSettings {
  const stateUrl = flags.state ?? env.TAGSTREAM_STATE
  if (stateUrl === undefined || !isPostgresUrl(stateUrl)) {
    throw new Error(
      `tagstream worker needs --state postgres://host:port/db?schema=name (or TAGSTREAM_STATE): workers share partitions through leases in Postgres${stateUrl === undefined ? '' : `; got "${stateUrl.includes('://') ? redactUrl(stateUrl) : stateUrl}"`}`,
    )
  }
  const named = flags.segments ?? env.TAGSTREAM_SEGMENTS
  const workerId = flags.id ?? env.TAGSTREAM_WORKER_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
  if (!/^\S{1,200}$/.test(workerId)) throw new Error(`--id must be 1 to 200 characters without spaces, got "${workerId}"`)
  const timing = checkTiming({
    heartbeatMs: integer('--heartbeat-ms', flags.heartbeatMs ?? env.TAGSTREAM_HEARTBEAT_MS, DEFAULT_TIMING.heartbeatMs, 10),
    leaseMs: integer('--lease-ms', flags.leaseMs ?? env.TAGSTREAM_LEASE_MS, DEFAULT_TIMING.leaseMs, 1),
    appendMarginMs: integer('--append-margin-ms', flags.appendMarginMs ?? env.TAGSTREAM_APPEND_MARGIN_MS, DEFAULT_TIMING.appendMarginMs, 0),
  })
  return {
    logUrl: global.log ?? env.TAGSTREAM_LOG ?? join(global.data, 'log'),
    stateUrl,
    segmentsPath: named ?? join(global.data, 'segments.yaml'),
    segmentsNamed: named !== undefined,
    workerId,
    partitions: global.partitions,
    timing,
    worker: {
      ...DEFAULT_WORKER_OPTIONS,
      checkpointIntervalMs: integer('--checkpoint-ms', flags.checkpointMs ?? env.TAGSTREAM_CHECKPOINT_MS, DEFAULT_WORKER_OPTIONS.checkpointIntervalMs, 1),
      batchSize: integer('--batch-size', flags.batchSize ?? env.TAGSTREAM_BATCH_SIZE, DEFAULT_WORKER_OPTIONS.batchSize, 1),
      clockTickMs: integer('--clock-tick-ms', flags.clockTickMs ?? env.TAGSTREAM_CLOCK_TICK_MS, DEFAULT_WORKER_OPTIONS.clockTickMs, 0),
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
    // The coordinator and group code (and pg) load when a worker runs, not when the CLI starts.
    const { PostgresCoordinator } = await import('../worker/postgres/coordinator.ts')
    const { GroupWorker } = await import('../worker/group-worker.ts')
    const coordinator = await PostgresCoordinator.open(s.stateUrl, { namespace: s.worker.namespace, workerId: s.workerId, leaseMs: s.timing.leaseMs, lockTimeoutMs: s.timing.heartbeatMs, logger })
    closers.push(() => coordinator.close())
    const group = new GroupWorker({ log, store, coordinator, rules, engine: options, partitions, worker: s.worker, timing: s.timing, logger })
    await group.start()
    logger.info({ worker: group.id, partitions, owned: group.owned() }, 'worker joined the group')
    console.log(JSON.stringify({ worker: group.id, partitions, log: s.logUrl, state: redactUrl(s.stateUrl), segments: s.segmentsPath }))
    await stop
    await group.stop()
  } finally {
    for (const close of closers.reverse()) await close().catch((err: unknown) => logger.warn({ err }, 'close failed'))
  }
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run the engine as one of a group of worker processes sharing the partitions through Postgres leases (docs/deployment.md)')
    .option('--state <url>', 'postgres://host:port/db?schema=name: checkpoints, users and the group\'s leases (env TAGSTREAM_STATE)')
    .option('--segments <file>', 'segments and triggers (YAML), the same file on every worker (env TAGSTREAM_SEGMENTS; default <data>/segments.yaml)')
    .option('--id <name>', 'worker id, unique in the group (env TAGSTREAM_WORKER_ID; default <host>-<pid>-<random>)')
    .option('--heartbeat-ms <ms>', `heartbeat and rebalance period (env TAGSTREAM_HEARTBEAT_MS; default ${DEFAULT_TIMING.heartbeatMs})`)
    .option('--lease-ms <ms>', `lease length: how soon a dead worker's partitions are taken over (env TAGSTREAM_LEASE_MS; default ${DEFAULT_TIMING.leaseMs})`)
    .option('--append-margin-ms <ms>', `stop appending this long before a lease could expire (env TAGSTREAM_APPEND_MARGIN_MS; default ${DEFAULT_TIMING.appendMarginMs})`)
    .option('--checkpoint-ms <ms>', `checkpoint period per partition (env TAGSTREAM_CHECKPOINT_MS; default ${DEFAULT_WORKER_OPTIONS.checkpointIntervalMs})`)
    .option('--batch-size <n>', `events read per poll (env TAGSTREAM_BATCH_SIZE; default ${DEFAULT_WORKER_OPTIONS.batchSize})`)
    .option('--clock-tick-ms <ms>', `how often a quiet partition's clock follows the wall clock; 0 = only events move it (env TAGSTREAM_CLOCK_TICK_MS; default ${DEFAULT_WORKER_OPTIONS.clockTickMs})`)
    .action(async (flags: WorkerFlags) => {
      const settings = workerSettings(program.opts<{ data: string; log?: string; partitions: number }>(), flags)
      const logger = createLogger('worker')
      const stop = signalled().then((signal) => logger.info({ signal }, 'stopping: handing partitions over'))
      await runWorker(settings, logger, stop)
    })
}
