import { join } from 'node:path'
import type { Command } from 'commander'
import { InvalidArgumentError } from 'commander'
import { devKey, parseKeys, type ApiKey } from '../api/auth.ts'
import { DEFAULT_HTTP_TIMEOUTS, DEFAULT_STREAM_CAPS, defaultConfig, type ServerConfig, type WebhookConfig } from '../api/config.ts'
import type { RunningServer } from '../api/server.ts'
import { validateWebhooks } from '../api/webhooks/index.ts'
import { createLogger } from '../logger.ts'
import { logUrl } from './options.ts'

export interface ServeOptions {
  host: string
  port: number
  segments?: string
  /** State store URL: a directory or postgres://…; default TAGSTREAM_STATE, else <data>/state. */
  state?: string
  warehouse: boolean
  /** Default 3 (config.ts). */
  retentionDays?: number
  clockTickMs?: number
  /** false with --no-engine; commander leaves it true otherwise, and TAGSTREAM_ENGINE decides. */
  engine?: boolean
  /** Collector body deadlines (config.http); defaults in config.ts. */
  bodyTimeoutMs?: number
  bodyIdleTimeoutMs?: number
  /** SSE stream caps (config.streams); defaults in config.ts. */
  streamsPerTenant?: number
  streamsTotal?: number
}

function positiveInt(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v)
    if (v.trim() === '' || !Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be a whole number, 1 or more; got "${v}"`)
    return n
  }
}

/** TAGSTREAM_ENGINE: on (default) or off, the latter being `--no-engine`. */
export function parseEngineEnv(value: string | undefined): boolean {
  if (value === undefined || value.trim() === '') return true
  const v = value.trim().toLowerCase()
  if (v === 'on' || v === 'true' || v === '1') return true
  if (v === 'off' || v === 'false' || v === '0') return false
  throw new Error(`TAGSTREAM_ENGINE must be "on" or "off", got "${value}"`)
}

function days(v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1 || n > 3650) throw new InvalidArgumentError(`--retention-days must be an integer from 1 to 3650, got "${v}"`)
  return n
}

function port(v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError(`--port must be an integer from 0 to 65535, got "${v}"`)
  return n
}

/** Reads TAGSTREAM_WEBHOOKS: a JSON array of {url, streams, only?}. */
export function parseWebhooks(spec: string | undefined): WebhookConfig[] {
  if (!spec) return []
  let raw: unknown
  try {
    raw = JSON.parse(spec)
  } catch (err) {
    throw new Error(`TAGSTREAM_WEBHOOKS is not JSON: ${(err as Error).message}`, { cause: err })
  }
  if (!Array.isArray(raw)) throw new Error('TAGSTREAM_WEBHOOKS must be a JSON array of {"url", "streams", "only"?}')
  const list: WebhookConfig[] = raw.map((w: unknown, i) => {
    const o = w as Partial<WebhookConfig>
    if (typeof o.url !== 'string' || !/^https?:\/\//.test(o.url)) throw new Error(`TAGSTREAM_WEBHOOKS[${i}].url must be an http(s) URL`)
    const streams = o.streams ?? ['segment-changes', 'notifications']
    if (!Array.isArray(streams) || streams.some((s) => s !== 'segment-changes' && s !== 'notifications')) throw new Error(`TAGSTREAM_WEBHOOKS[${i}].streams must list "segment-changes" and/or "notifications"`)
    return { url: o.url, streams, ...(Array.isArray(o.only) ? { only: o.only.map(String) } : {}) }
  })
  validateWebhooks(list)
  return list
}

export function serverConfig(global: { data: string; log?: string; partitions: number }, o: ServeOptions, keys: ApiKey[]): ServerConfig {
  return defaultConfig({
    host: o.host,
    port: o.port,
    dataDir: global.data,
    logUrl: logUrl(global.data, global.log),
    stateUrl: o.state ?? process.env.TAGSTREAM_STATE ?? join(global.data, 'state'),
    partitions: global.partitions,
    segmentsPath: o.segments ?? null,
    keys,
    webhooks: parseWebhooks(process.env.TAGSTREAM_WEBHOOKS),
    warehouse: o.warehouse,
    ...(o.retentionDays === undefined ? {} : { retentionDays: o.retentionDays }),
    engine: o.engine === false ? false : parseEngineEnv(process.env.TAGSTREAM_ENGINE),
    ...(o.clockTickMs === undefined ? {} : { clockTickMs: o.clockTickMs }),
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

function nonNegativeMs(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new Error(`--clock-tick-ms must be a whole number of ms, 0 or more; got "${value}"`)
  return n
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the HTTP API, the collector and the engine on embedded storage (or the given log)')
    .option('--host <host>', 'address to listen on', process.env.TAGSTREAM_HOST ?? '127.0.0.1')
    .option('--port <port>', 'port to listen on', port, Number(process.env.TAGSTREAM_PORT ?? 8080))
    .option('--segments <file>', 'segments and triggers (YAML); runtime changes are saved back to it (default <data>/segments.yaml)')
    .option('--state <url>', 'state store: a directory or postgres://host:port/db?schema=name (default <data>/state, env TAGSTREAM_STATE)')
    .option('--no-warehouse', 'do not write events to the Parquet warehouse while serving')
    .option('--no-engine', 'run no engine: a stateless collector reading profiles and segments from the workers\' checkpoints in --state (env TAGSTREAM_ENGINE=off)')
    .option('--retention-days <n>', 'days kept in the log and the warehouse (env TAGSTREAM_RETENTION_DAYS)', days, Number(process.env.TAGSTREAM_RETENTION_DAYS ?? 3))
    .option('--clock-tick-ms <ms>', 'how often a quiet partition\'s clock follows the wall clock; 0 = only events move it (env TAGSTREAM_CLOCK_TICK_MS; default 1000)', nonNegativeMs, process.env.TAGSTREAM_CLOCK_TICK_MS === undefined ? undefined : nonNegativeMs(process.env.TAGSTREAM_CLOCK_TICK_MS))
    .option('--body-timeout-ms <ms>', 'a collector request body must arrive within this (default 30000)', positiveInt('--body-timeout-ms'))
    .option('--body-idle-timeout-ms <ms>', 'a collector request body may pause this long between bytes (default 10000)', positiveInt('--body-idle-timeout-ms'))
    .option('--streams-per-tenant <n>', 'open /v1/segment-changes + /v1/notifications streams per tenant (default 100)', positiveInt('--streams-per-tenant'))
    .option('--streams-total <n>', 'open /v1/segment-changes + /v1/notifications streams, all tenants (default 500)', positiveInt('--streams-total'))
    .action(async (o: ServeOptions) => {
      const global = program.opts<{ data: string; log?: string; partitions: number }>()
      let keys = parseKeys(process.env.TAGSTREAM_API_KEYS ?? '')
      const dev = keys.length === 0 ? devKey() : null
      if (dev) keys = [dev]
      // Loaded when the command runs, not when the CLI starts (`tagstream --help` stays fast).
      const { startServer } = await import('../api/server.ts')
      const server = await startServer(serverConfig(global, o, keys), createLogger('tagstream'))
      console.log(`tagstream listening on ${server.url}`)
      console.log(`  dashboard: ${server.url}/${dev ? `#key=${dev.key}` : ''}`)
      console.log(`  API docs:  ${server.url}/docs`)
      console.log(`  metrics:   ${server.url}/metrics`)
      if (!server.ctx.config.engine) console.log('  no engine: profiles and segments as of the workers\' last checkpoint (docs/collectors.md)')
      if (dev) console.log(`  dev API key (all scopes, tenant "default"): ${dev.key}`)
      await stopOnSignals(server)
    })
}
