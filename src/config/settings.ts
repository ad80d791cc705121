import { durationMs, integer, nonEmpty, onOff, oneOf, port, timeOfDay, token, tokenList, type Parser } from './parsers.ts'

/**
 * Every environment variable tagstream reads, with its flag, default and doc line: the one table
 * that the CLI parses them from (read-setting.ts, commander-options.ts) and that
 * docs/configuration.md is generated from (`npx tsx scripts/config-docs.ts`; a test keeps the two
 * equal). Library code never reads the environment: the CLI passes the parsed values down.
 */
export interface Setting<T> {
  /** The environment variable. */
  env: string
  /** The flag, as commander spells it (`--partitions <n>`), when a flag sets it too. */
  flag?: string
  /** The commands that read it; `tagstream` means every command. */
  commands: readonly string[]
  /** The default as docs and help show it. */
  defaultText: string
  /** What it sets, one line. */
  doc: string
  parse: Parser<T>
  /** Error messages name the variable but do not echo its value (API keys). */
  secret?: boolean
}

function setting<T>(s: Setting<T>): Setting<T> {
  return s
}

/** pino's levels, as TAGSTREAM_LOG_LEVEL takes them. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** The events log's record formats (src/events/events-format.ts; config/ imports nothing of the project, so they are listed here too). */
export const EVENTS_FORMATS = ['json', 'binary'] as const

/** More partitions than this is a typo, not a deployment: each is a directory and a thread's worth of state. */
export const MAX_PARTITIONS = 1024

/** Raw text; the command that reads it parses it further (API keys, webhooks) through the same error format. */
const text: Parser<string> = (raw) => raw

export const SETTINGS = {
  data: setting({ env: 'TAGSTREAM_DATA', flag: '--data <dir>', commands: ['tagstream'], defaultText: 'data (demo: .tagstream-demo)', doc: 'data directory for embedded storage', parse: nonEmpty }),
  log: setting({ env: 'TAGSTREAM_LOG', flag: '--log <url>', commands: ['tagstream'], defaultText: '<data>/log', doc: 'event log: a directory (embedded) or kafka://host:port', parse: nonEmpty }),
  partitions: setting({
    env: 'TAGSTREAM_PARTITIONS',
    flag: '--partitions <n>',
    commands: ['tagstream'],
    defaultText: '8',
    doc: 'partitions per topic when the log is created',
    parse: integer(1, MAX_PARTITIONS),
  }),
  logLevel: setting({
    env: 'TAGSTREAM_LOG_LEVEL',
    commands: ['serve', 'worker', 'demo'],
    defaultText: 'info (demo: warn)',
    doc: `level of the JSON logs on stderr: ${LOG_LEVELS.join(', ')}`,
    parse: oneOf(LOG_LEVELS),
  }),
  host: setting({ env: 'TAGSTREAM_HOST', flag: '--host <host>', commands: ['serve'], defaultText: '127.0.0.1', doc: 'address to listen on', parse: nonEmpty }),
  seedPort: setting({
    env: 'TAGSTREAM_SEED_PORT',
    flag: '--seed-port <port>',
    commands: ['serve'],
    defaultText: 'off',
    doc: "also listen here for seeds 002 and 003's own routes, with no API key, for --seed-tenant (docs/game.md); 0 = a free port",
    parse: port,
  }),
  seedTenant: setting({ env: 'TAGSTREAM_SEED_TENANT', flag: '--seed-tenant <tenant>', commands: ['serve'], defaultText: 'default', doc: 'the tenant the seed routes act for', parse: token(128) }),
  port: setting({ env: 'TAGSTREAM_PORT', flag: '--port <port>', commands: ['serve'], defaultText: '8080', doc: 'port to listen on; 0 = a free one', parse: port }),
  state: setting({
    env: 'TAGSTREAM_STATE',
    flag: '--state <url>',
    commands: ['serve', 'worker'],
    defaultText: '<data>/state (serve); a worker needs one',
    doc: 'state store: a directory or postgres://host:port/db?schema=name (a worker needs Postgres)',
    parse: nonEmpty,
  }),
  retentionDays: setting({
    env: 'TAGSTREAM_RETENTION_DAYS',
    flag: '--retention-days <n>',
    commands: ['serve'],
    defaultText: '3',
    doc: 'days kept in the log and the warehouse',
    parse: integer(1, 3650),
  }),
  inboxMax: setting({
    env: 'TAGSTREAM_INBOX_MAX',
    flag: '--inbox-max <n>',
    commands: ['serve'],
    defaultText: '100',
    doc: "undelivered messages kept in a player's inbox; beyond it the oldest go (docs/streams.md)",
    parse: integer(1, 10_000),
  }),
  inboxTtlDays: setting({
    env: 'TAGSTREAM_INBOX_TTL_DAYS',
    flag: '--inbox-ttl-days <n>',
    commands: ['serve'],
    defaultText: '30',
    doc: "days an undelivered message stays in a player's inbox",
    parse: integer(1, 3650),
  }),
  predict: setting({
    env: 'TAGSTREAM_PREDICT',
    flag: '--predict <switch>',
    commands: ['serve'],
    defaultText: 'on',
    doc: 'the daily prediction run: models per tenant from the warehouse, scores as predicted.* traits (docs/predictions.md)',
    parse: onOff,
  }),
  predictAt: setting({
    env: 'TAGSTREAM_PREDICT_AT',
    flag: '--predict-at <HH:MM>',
    commands: ['serve'],
    defaultText: '00:30',
    doc: 'when the daily prediction run starts, UTC',
    parse: timeOfDay,
  }),
  clockTickMs: setting({
    env: 'TAGSTREAM_CLOCK_TICK_MS',
    flag: '--clock-tick-ms <ms>',
    commands: ['serve', 'worker'],
    defaultText: '1000',
    doc: "how often a quiet partition's clock follows the wall clock; 0 = only events move it",
    parse: durationMs(0),
  }),
  engine: setting({
    env: 'TAGSTREAM_ENGINE',
    commands: ['serve'],
    defaultText: 'on',
    doc: "off = run no engine, as --no-engine: a stateless collector reading the workers' checkpoints",
    parse: onOff,
  }),
  apiKeys: setting({
    env: 'TAGSTREAM_API_KEYS',
    commands: ['serve'],
    defaultText: 'a dev key, printed at start',
    doc: 'API keys, comma-separated key:tenant:scopes (scopes write+read+admin+operator)',
    parse: text,
    secret: true,
  }),
  webhooks: setting({ env: 'TAGSTREAM_WEBHOOKS', commands: ['serve'], defaultText: 'none', doc: 'JSON array of {"url", "streams"?, "only"?}: output streams POSTed to URLs', parse: text }),
  collectorFastPath: setting({
    env: 'TAGSTREAM_COLLECTOR_FAST_PATH',
    commands: ['serve'],
    defaultText: 'on',
    doc: 'off = the collector parses every body with JSON.parse (A/B benchmarks, a suspected fast-path bug)',
    parse: onOff,
  }),
  eventsFormat: setting({
    env: 'TAGSTREAM_EVENTS_FORMAT',
    flag: '--events-format <format>',
    commands: ['serve', 'demo', 'ingest'],
    defaultText: 'json on kafka://, binary on the embedded log',
    doc: 'how events are stored in the events log: json (readable by any Kafka consumer) or binary (our compact envelope); both are always read',
    parse: oneOf(EVENTS_FORMATS),
  }),
  sseHeartbeatMs: setting({
    env: 'TAGSTREAM_SSE_HEARTBEAT_MS',
    commands: ['serve'],
    defaultText: '15000',
    doc: 'interval of the keep-alive comment on segment-change and notification streams',
    parse: durationMs(1),
  }),
  webDir: setting({ env: 'TAGSTREAM_WEB_DIR', commands: ['serve', 'demo'], defaultText: 'web/dist of the package', doc: 'directory of the dashboard bundle (one built elsewhere)', parse: nonEmpty }),
  segments: setting({
    env: 'TAGSTREAM_SEGMENTS',
    flag: '--segments <file>',
    commands: ['worker'],
    defaultText: '<data>/segments.yaml',
    doc: 'segments and triggers (YAML), the same file on every worker',
    parse: nonEmpty,
  }),
  workerWarehouse: setting({
    env: 'TAGSTREAM_WAREHOUSE',
    flag: '--warehouse <dir>',
    commands: ['worker'],
    defaultText: 'none: history from the log only',
    doc: "a warehouse directory the worker can read (the collector's `<data>/warehouse` on a shared disk): a tenant's new aggregates are filled from it, then from the log",
    parse: nonEmpty,
  }),
  workerId: setting({ env: 'TAGSTREAM_WORKER_ID', flag: '--id <name>', commands: ['worker'], defaultText: '<host>-<pid>-<random>', doc: 'worker id, unique in the group', parse: token(200) }),
  progressMs: setting({
    env: 'TAGSTREAM_PROGRESS_MS',
    flag: '--progress-ms <ms>',
    commands: ['serve', 'worker'],
    defaultText: '60000',
    doc: "how often the engine logs seed 000's progress line (and sets its /metrics series); 0 = never",
    parse: durationMs(0),
  }),
  metricsPort: setting({
    env: 'TAGSTREAM_METRICS_PORT',
    flag: '--metrics-port <port>',
    commands: ['worker'],
    defaultText: 'off',
    doc: "serve the worker's /metrics (progress figures per worker, Prometheus text) and /healthz on this port; 0 = a free one",
    parse: port,
  }),
  metricsHost: setting({
    env: 'TAGSTREAM_METRICS_HOST',
    flag: '--metrics-host <host>',
    commands: ['worker'],
    defaultText: '127.0.0.1',
    doc: "address of the worker's /metrics listener",
    parse: nonEmpty,
  }),
  heartbeatMs: setting({ env: 'TAGSTREAM_HEARTBEAT_MS', flag: '--heartbeat-ms <ms>', commands: ['worker'], defaultText: '250', doc: 'heartbeat period (group or lease)', parse: durationMs(10) }),
  sessionMs: setting({
    env: 'TAGSTREAM_SESSION_MS',
    flag: '--session-ms <ms>',
    commands: ['worker'],
    defaultText: '1500',
    doc: "Kafka consumer-group session timeout: how soon a dead worker's partitions move (the brokers' group.min.session.timeout.ms must allow it)",
    parse: durationMs(1),
  }),
  leaseMs: setting({
    env: 'TAGSTREAM_LEASE_MS',
    flag: '--lease-ms <ms>',
    commands: ['worker'],
    defaultText: '5000',
    doc: "Postgres lease length (`--transactions off`, embedded log): how soon a dead worker's partitions are taken over",
    parse: durationMs(1),
  }),
  appendMarginMs: setting({
    env: 'TAGSTREAM_APPEND_MARGIN_MS',
    flag: '--append-margin-ms <ms>',
    commands: ['worker'],
    defaultText: '2000',
    doc: 'Postgres leases: stop appending this long before a lease could expire',
    parse: durationMs(0),
  }),
  checkpointMs: setting({ env: 'TAGSTREAM_CHECKPOINT_MS', flag: '--checkpoint-ms <ms>', commands: ['worker'], defaultText: '1000', doc: 'checkpoint period per partition', parse: durationMs(1) }),
  transactions: setting({
    env: 'TAGSTREAM_TRANSACTIONS',
    flag: '--transactions <switch>',
    commands: ['worker'],
    defaultText: 'on',
    doc: "outputs in Kafka transactions and partitions shared by Kafka's consumer-group protocol, zombies fenced by the broker (off: Postgres leases and the lease's append margin, as before; for comparison)",
    parse: onOff,
  }),
  commitMs: setting({
    env: 'TAGSTREAM_COMMIT_MS',
    flag: '--commit-ms <ms>',
    commands: ['worker'],
    defaultText: '100',
    doc: "how often a caught-up partition's output transaction is committed (readers see outputs then); through a backlog, with each checkpoint",
    parse: durationMs(1),
  }),
  batchSize: setting({ env: 'TAGSTREAM_BATCH_SIZE', flag: '--batch-size <n>', commands: ['worker'], defaultText: '5000', doc: 'events read per poll', parse: integer(1) }),
  key: setting({
    env: 'TAGSTREAM_KEY',
    flag: '--key <key>',
    commands: ['simulate'],
    defaultText: 'none',
    doc: 'API key with the write scope, or a comma-separated list',
    parse: tokenList('an API key'),
    secret: true,
  }),
  fromSource: setting({
    env: 'TAGSTREAM_FROM_SOURCE',
    commands: ['tagstream'],
    defaultText: 'off',
    doc: '1 = run src/ through tsx instead of the compiled dist/ (read by bin/tagstream.mjs, before this code loads)',
    parse: oneOf(['1', '0']),
  }),
} as const

/** The table as a list, in the order above (the docs' order). */
export const ALL_SETTINGS: ReadonlyArray<Setting<unknown>> = Object.values(SETTINGS)
