import type { EventsFormat } from '../events/index.ts'
import { defaultEventsFormat } from '../log/default-events-format.ts'
import type { ApiKey } from './auth.ts'

/** Everything `tagstream serve` can be told; every default is named in docs/api.md. */
export interface ServerConfig {
  host: string
  port: number
  dataDir: string
  /** Event log URL; default <dataDir>/log. */
  logUrl: string
  /** State store URL (engine checkpoints, players): a directory or postgres://…; default <dataDir>/state. */
  stateUrl: string
  partitions: number
  /** Segments file (YAML); null = start with no segments. Runtime changes are saved to <dataDir>/segments.yaml. */
  segmentsPath: string | null
  keys: ApiKey[]
  limits: CollectorLimits
  dedupe: { horizonMs: number; maxEntries: number }
  backpressure: BackpressureConfig
  /** Timeouts on reading requests, so a slow client cannot hold memory or budget forever. */
  http: HttpTimeouts
  /** Caps on open Server-Sent Event streams, per tenant and for the whole server. */
  streams: StreamCaps
  webhooks: WebhookConfig[]
  /**
   * The seed listener (docs/game.md, "Seed commands"): seeds 002 and 003's own routes on a port of
   * their own, with no API key, acting for `tenant`. Default off (port null).
   */
  seed: { port: number | null; tenant: string }
  /** Run the Parquet warehouse sink (into <dataDir>/warehouse) inside the server. Default true. */
  warehouse: boolean
  /** Players' inboxes (docs/streams.md, "Player notifications"): undelivered messages kept per player, and for how many days. */
  inbox: { maxPerPlayer: number; ttlDays: number }
  /**
   * The daily prediction run (docs/predictions.md, "Schedule"): on or off, and its start in minutes
   * after 00:00 UTC. Default on at 00:30.
   */
  predict: { enabled: boolean; atMinute: number }
  /** Days kept, in the embedded log (by append time) and in the warehouse (by event day). Default 3, as in seed 004. */
  retentionDays: number
  /**
   * Run the engine in a thread of this server. Default true. false (`serve --no-engine`) makes a
   * stateless collector: profiles and segments are read from the workers' checkpoints in the state store.
   */
  engine: boolean
  /**
   * The engine's clock records (docs/engine.md, "Time"): at most this often a quiet partition's
   * clock moves with wall time. Default 1,000 ms; 0 turns it off (time moves with events only).
   */
  clockTickMs: number
  /** Seed 000's progress line of the engine thread, and its /metrics series, every this often (docs/operations.md). Default 60,000 ms; 0 = never. */
  progressMs: number
  /** How collected events are stored in the events log (src/events/events-format.ts). Default json. */
  eventsFormat: EventsFormat
  /** The collector's byte-level fast path for JSON bodies. Default true; false parses every body with JSON.parse (A/B benchmarks, a suspected bug in it). */
  collectorFastPath: boolean
  /** Interval of the `: keep-alive` comment on segment-change and notification streams. Default 15,000 ms. */
  sseHeartbeatMs: number
  /** Directory of the dashboard bundle; null = web/dist of the package. */
  webDir: string | null
}

export interface BackpressureConfig {
  maxEngineLag: number
  /** Bytes of collector bodies in flight, all tenants. Default 256 MiB. */
  maxInflightBytes: number
  /**
   * One tenant's share of maxInflightBytes, so one tenant (or an attacker with its key) cannot take
   * the whole budget. Default 64 MiB; when absent, a quarter of maxInflightBytes.
   */
  maxTenantInflightBytes?: number
  retryAfterSeconds: number
}

export interface HttpTimeouts {
  /**
   * Node's requestTimeout: the whole request (headers and body) of any route must arrive within
   * this; Node checks it every 30 s, so it is a backstop. Default 60,000 ms; 0 = none.
   */
  requestTimeoutMs: number
  /** A collector body must be read completely within this from when reading starts (408). Default 30,000 ms. */
  bodyTimeoutMs: number
  /** A collector body that sends no byte for this long is refused (408). Default 10,000 ms. */
  bodyIdleTimeoutMs: number
}

export interface StreamCaps {
  /** `/v1/segment-changes` + `/v1/notifications` streams of one tenant (429 above). Default 100. */
  ssePerTenant: number
  /** The same, all tenants (503 above). Default 500. */
  sseTotal: number
  /** `/v1/dashboard/live` streams of one tenant (429 above). Default 16. */
  dashboardPerTenant: number
  /** The same, all tenants (503 above). Default 64. */
  dashboardTotal: number
}

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { requestTimeoutMs: 60_000, bodyTimeoutMs: 30_000, bodyIdleTimeoutMs: 10_000 }
export const DEFAULT_STREAM_CAPS: StreamCaps = { ssePerTenant: 100, sseTotal: 500, dashboardPerTenant: 16, dashboardTotal: 64 }

/** A tenant's in-flight share: the configured one, else a quarter of the whole budget. */
export function tenantInflightLimit(b: BackpressureConfig): number {
  return b.maxTenantInflightBytes ?? Math.floor(b.maxInflightBytes / 4)
}

export interface CollectorLimits {
  /** Request body, after gunzip. Default 10 MiB. */
  maxBodyBytes: number
  /** Events per request. Default 10,000. */
  maxEvents: number
}

export interface WebhookConfig {
  /** Where to POST. */
  url: string
  /** Which streams: 'segment-changes', 'notifications', 'player-notifications', an event stream's '<name>-events' (docs/streams.md). */
  streams: string[]
  /** Only these segments / triggers; empty = all. */
  only?: string[]
}

export const DEFAULT_LIMITS: CollectorLimits = { maxBodyBytes: 10 * 1024 * 1024, maxEvents: 10_000 }

/** Players' inboxes: 100 undelivered messages a player, kept 30 days. */
export const DEFAULT_INBOX = { maxPerPlayer: 100, ttlDays: 30 } as const

/** The daily prediction run: on, at 00:30 UTC. */
export const DEFAULT_PREDICT = { enabled: true, atMinute: 30 } as const

export function defaultConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  const dataDir = overrides.dataDir ?? 'data'
  return {
    host: '127.0.0.1',
    port: 8080,
    dataDir,
    logUrl: `${dataDir}/log`,
    stateUrl: `${dataDir}/state`,
    partitions: 8,
    segmentsPath: null,
    keys: [],
    limits: DEFAULT_LIMITS,
    dedupe: { horizonMs: 10 * 60 * 1000, maxEntries: 2_000_000 },
    backpressure: { maxEngineLag: 2_000_000, maxInflightBytes: 256 * 1024 * 1024, maxTenantInflightBytes: 64 * 1024 * 1024, retryAfterSeconds: 1 },
    http: DEFAULT_HTTP_TIMEOUTS,
    streams: DEFAULT_STREAM_CAPS,
    webhooks: [],
    warehouse: true,
    seed: { port: null, tenant: 'default' },
    inbox: DEFAULT_INBOX,
    predict: DEFAULT_PREDICT,
    retentionDays: 3,
    engine: true,
    clockTickMs: 1_000,
    progressMs: 60_000,
    collectorFastPath: true,
    eventsFormat: overrides.eventsFormat ?? defaultEventsFormat(overrides.logUrl ?? `${dataDir}/log`),
    sseHeartbeatMs: 15_000,
    webDir: null,
    ...overrides,
  }
}
