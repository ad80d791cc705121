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
  backpressure: { maxEngineLag: number; maxInflightBytes: number; retryAfterSeconds: number }
  webhooks: WebhookConfig[]
  /** Run the Parquet warehouse sink (into <dataDir>/warehouse) inside the server. Default true. */
  warehouse: boolean
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
  /** Which streams: 'segment-changes', 'notifications' or both. */
  streams: Array<'segment-changes' | 'notifications'>
  /** Only these segments / triggers; empty = all. */
  only?: string[]
}

export const DEFAULT_LIMITS: CollectorLimits = { maxBodyBytes: 10 * 1024 * 1024, maxEvents: 10_000 }

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
    backpressure: { maxEngineLag: 2_000_000, maxInflightBytes: 256 * 1024 * 1024, retryAfterSeconds: 1 },
    webhooks: [],
    warehouse: true,
    retentionDays: 3,
    engine: true,
    clockTickMs: 1_000,
    ...overrides,
  }
}
