import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { devKey, parseKeys, type ApiKey } from '../api/auth.ts'
import { DEFAULT_HTTP_TIMEOUTS, DEFAULT_INBOX, DEFAULT_PREDICT, DEFAULT_STREAM_CAPS, defaultConfig, type ServerConfig, type WebhookConfig } from '../api/config.ts'
import type { RunningServer } from '../api/server.ts'
import { validateWebhooks } from '../api/webhooks/index.ts'
import { addSetting } from '../config/commander-options.ts'
import { durationMs, fromThrowing, integer } from '../config/parsers.ts'
import { flagParser, processEnv, readEnv, type Env } from '../config/read-setting.ts'
import { SETTINGS, type LogLevel } from '../config/settings.ts'
import { DEFAULT_TENANT, type EventsFormat } from '../events/index.ts'
import { createLogger } from '../logger.ts'
import { logUrl, type GlobalOptions } from './options.ts'

export interface ServeOptions {
  host: string
  port: number
  segments?: string
  /** State store URL: a directory or postgres://…; default <data>/state. */
  state?: string
  warehouse: boolean
  /** Default 3 (config.ts). */
  retentionDays?: number
  clockTickMs?: number
  progressMs?: number
  /** false with --no-engine; commander leaves it true otherwise, and TAGSTREAM_ENGINE decides. */
  engine?: boolean
  /** Collector body deadlines (config.http); defaults in config.ts. */
  bodyTimeoutMs?: number
  bodyIdleTimeoutMs?: number
  /** SSE stream caps (config.streams); defaults in config.ts. */
  streamsPerTenant?: number
  streamsTotal?: number
  /** The seed listener (config.seed). */
  seedPort?: number
  seedTenant?: string
  /** Players' inboxes (config.inbox). */
  inboxMax?: number
  inboxTtlDays?: number
  /** The daily prediction run (config.predict). */
  predict?: boolean
  predictAt?: number
  /** --events-format / TAGSTREAM_EVENTS_FORMAT (config.eventsFormat). */
  eventsFormat?: EventsFormat
}

/** The settings of `serve` that only a variable sets (no flag), parsed once by serveEnv. */
export interface ServeEnv {
  logLevel?: LogLevel
  /** undefined: a dev key is made and printed. */
  keys?: ApiKey[]
  webhooks?: WebhookConfig[]
  engine?: boolean
  collectorFastPath?: boolean
  sseHeartbeatMs?: number
  webDir?: string
}

/** Reads TAGSTREAM_WEBHOOKS: a JSON array of {url, streams, only?}. Errors name the entry; the caller adds the variable. */
export function parseWebhooks(spec: string): WebhookConfig[] {
  let raw: unknown
  try {
    raw = JSON.parse(spec)
  } catch (err) {
    throw new Error(`not JSON: ${(err as Error).message}`, { cause: err })
  }
  if (!Array.isArray(raw)) throw new Error('must be a JSON array of {"url", "streams", "only"?}')
  const list: WebhookConfig[] = raw.map((w: unknown, i) => {
    const o = w as Partial<WebhookConfig>
    if (typeof o.url !== 'string' || !/^https?:\/\//.test(o.url)) throw new Error(`[${i}].url must be an http(s) URL`)
    const streams = o.streams ?? ['segment-changes', 'notifications']
    if (!Array.isArray(streams) || streams.some((s) => typeof s !== 'string'))
      throw new Error(`[${i}].streams must be a list of stream names ("segment-changes", "notifications", "player-notifications", "<event stream>-events")`)
    return { url: o.url, streams, ...(Array.isArray(o.only) ? { only: o.only.map(String) } : {}) }
  })
  validateWebhooks(list)
  return list
}

/** Every variable `serve` reads without a flag, parsed and checked before anything starts. */
export function serveEnv(env: Env): ServeEnv {
  const keys = readEnv(SETTINGS.apiKeys, env, fromThrowing(parseKeys))
  const webDir = readEnv(SETTINGS.webDir, env)
  return {
    logLevel: readEnv(SETTINGS.logLevel, env),
    // A variable that lists no key (only commas) counts as unset, as before: serve makes a dev key.
    keys: keys === undefined || keys.length === 0 ? undefined : keys,
    webhooks: readEnv(SETTINGS.webhooks, env, fromThrowing(parseWebhooks)),
    engine: readEnv(SETTINGS.engine, env),
    collectorFastPath: readEnv(SETTINGS.collectorFastPath, env),
    sseHeartbeatMs: readEnv(SETTINGS.sseHeartbeatMs, env),
    webDir: webDir === undefined ? undefined : resolve(webDir),
  }
}

export function serverConfig(global: GlobalOptions, o: ServeOptions, keys: ApiKey[], env: ServeEnv = {}): ServerConfig {
  return defaultConfig({
    host: o.host,
    port: o.port,
    dataDir: global.data,
    logUrl: logUrl(global.data, global.log),
    stateUrl: o.state ?? join(global.data, 'state'),
    partitions: global.partitions,
    segmentsPath: o.segments ?? null,
    keys,
    webhooks: env.webhooks ?? [],
    warehouse: o.warehouse,
    ...(o.retentionDays === undefined ? {} : { retentionDays: o.retentionDays }),
    engine: o.engine === false ? false : (env.engine ?? true),
    ...(o.clockTickMs === undefined ? {} : { clockTickMs: o.clockTickMs }),
    ...(o.progressMs === undefined ? {} : { progressMs: o.progressMs }),
    seed: { port: o.seedPort ?? null, tenant: o.seedTenant ?? DEFAULT_TENANT },
    predict: { enabled: o.predict ?? DEFAULT_PREDICT.enabled, atMinute: o.predictAt ?? DEFAULT_PREDICT.atMinute },
    inbox: { ...DEFAULT_INBOX, ...(o.inboxMax === undefined ? {} : { maxPerPlayer: o.inboxMax }), ...(o.inboxTtlDays === undefined ? {} : { ttlDays: o.inboxTtlDays }) },
    ...(env.collectorFastPath === undefined ? {} : { collectorFastPath: env.collectorFastPath }),
    ...(o.eventsFormat === undefined ? {} : { eventsFormat: o.eventsFormat }),
    ...(env.sseHeartbeatMs === undefined ? {} : { sseHeartbeatMs: env.sseHeartbeatMs }),
    ...(env.webDir === undefined ? {} : { webDir: env.webDir }),
    http: {
      ...DEFAULT_HTTP_TIMEOUTS,
      ...(o.bodyTimeoutMs === undefined ? {} : { bodyTimeoutMs: o.bodyTimeoutMs }),
      ...(o.bodyIdleTimeoutMs === undefined ? {} : { bodyIdleTimeoutMs: o.bodyIdleTimeoutMs }),
    },
    streams: {
      ...DEFAULT_STREAM_CAPS,
      ...(o.streamsPerTenant === undefined ? {} : { ssePerTenant: o.streamsPerTenant }),
      ...(o.streamsTotal === undefined ? {} : { sseTotal: o.streamsTotal }),
    },
  })
}

/** Stops the server cleanly on Ctrl-C or SIGTERM: the engine writes its last checkpoint. */
export function stopOnSignals(server: RunningServer): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      process.stderr.write('tagstream: stopping…\n')
      void server.close().then(resolve)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}

export function registerServe(program: Command): void {
  const serve = program.command('serve').description('run the HTTP API, the collector and the engine on embedded storage (or the given log)')
  addSetting(serve, SETTINGS.host, { default: '127.0.0.1' })
  addSetting(serve, SETTINGS.port, { default: 8080 })
  serve.option('--segments <file>', 'segments and triggers (YAML); runtime changes are saved back to it (default <data>/segments.yaml)')
  addSetting(serve, SETTINGS.state, { doc: 'state store: a directory or postgres://host:port/db?schema=name', defaultText: '<data>/state' })
  serve
    .option('--no-warehouse', 'do not write events to the Parquet warehouse while serving')
    .option('--no-engine', "run no engine: a stateless collector reading profiles and segments from the workers' checkpoints in --state (env TAGSTREAM_ENGINE=off)")
  addSetting(serve, SETTINGS.retentionDays, { default: 3 })
  addSetting(serve, SETTINGS.clockTickMs)
  addSetting(serve, SETTINGS.progressMs)
  addSetting(serve, SETTINGS.seedPort)
  addSetting(serve, SETTINGS.seedTenant)
  addSetting(serve, SETTINGS.inboxMax)
  addSetting(serve, SETTINGS.inboxTtlDays)
  addSetting(serve, SETTINGS.predict)
  addSetting(serve, SETTINGS.predictAt)
  addSetting(serve, SETTINGS.eventsFormat)
  serve
    .option('--body-timeout-ms <ms>', 'a collector request body must arrive within this', flagParser('--body-timeout-ms', durationMs(1)), DEFAULT_HTTP_TIMEOUTS.bodyTimeoutMs)
    .option('--body-idle-timeout-ms <ms>', 'a collector request body may pause this long between bytes', flagParser('--body-idle-timeout-ms', durationMs(1)), DEFAULT_HTTP_TIMEOUTS.bodyIdleTimeoutMs)
    .option(
      '--streams-per-tenant <n>',
      'open SSE streams (segment changes, notifications, player notifications, event streams) per tenant',
      flagParser('--streams-per-tenant', integer(1)),
      DEFAULT_STREAM_CAPS.ssePerTenant,
    )
    .option('--streams-total <n>', 'open SSE streams, all tenants', flagParser('--streams-total', integer(1)), DEFAULT_STREAM_CAPS.sseTotal)
    .action(async (o: ServeOptions) => {
      const global = program.opts<GlobalOptions>()
      const env = serveEnv(processEnv())
      const dev = env.keys === undefined ? devKey() : null
      const keys = env.keys ?? (dev ? [dev] : [])
      // Loaded when the command runs, not when the CLI starts (`tagstream --help` stays fast).
      const { startServer } = await import('../api/server.ts')
      const server = await startServer(serverConfig(global, o, keys, env), createLogger('tagstream', env.logLevel ?? 'info'))
      console.log(`tagstream listening on ${server.url}`)
      console.log(`  dashboard: ${server.url}/${dev ? `#key=${dev.key}` : ''}`)
      console.log(`  API docs:  ${server.url}/docs`)
      console.log(`  metrics:   ${server.url}/metrics`)
      if (server.seedUrl !== null) console.log(`  seed routes (seeds 002, 003; no API key, tenant "${server.ctx.config.seed.tenant}"): ${server.seedUrl}`)
      if (!server.ctx.config.engine) console.log("  no engine: profiles and segments as of the workers' last checkpoint (docs/collectors.md)")
      if (dev) console.log(`  dev API key (all scopes, tenant "default"): ${dev.key}`)
      await stopOnSignals(server)
    })
}
