import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, expect, inject } from 'vitest'
import { validateEvent, type TrackedEvent } from '../../src/events/index.ts'
import { appendEvents } from '../../src/ingest/append-events.ts'
import pg from 'pg'
import { outcome } from '../engine/outcome.ts'
import { TOPICS, type EventLog } from '../../src/log/event-log.ts'
import type { StateStore } from '../../src/state/state-store.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { createLogger } from '../../src/logger.ts'
import { PostgresStateStore } from '../../src/state/postgres/state-store.ts'
import { sql, TEST_POSTGRES, testSchema } from '../state/postgres-helpers.ts'
import { workerHolders } from '../support/kafka-group.ts'
import { dropTopics as dropKafkaTopics } from '../support/kafka-topics.ts'

export const BROKER = process.env.TAGSTREAM_TEST_KAFKA ?? '127.0.0.1:9092'
const bin = resolve(import.meta.dirname, '../../bin/tagstream.mjs')

/** Fails the file with start.sh's output when the global setup could not start a broker. */
export function requireKafka(): void {
  const startError = inject('kafkaStartError')
  if (startError) throw new Error(startError)
}

export const freshPrefix = (label: string) => `test-worker-${label}-${randomUUID().slice(0, 8)}-`
export const kafkaUrl = (prefix: string, broker = BROKER) => `kafka://${broker}?prefix=${prefix}&clientId=tagstream-test`

export const dropTopics = (prefix: string): Promise<void> => dropKafkaTopics(prefix, BROKER)

/** Timings short enough for a test, in the proportions of the defaults. */
export const FAST = ['--heartbeat-ms', '200', '--lease-ms', '1500', '--append-margin-ms', '500']

/** A `tagstream worker` process; stderr (its JSON logs) is kept for failure messages. */
export class WorkerProcess {
  readonly proc: ChildProcess
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  readonly joined: Promise<void>
  private log = ''
  /** What the worker printed on stdout: its one JSON line once it joined. */
  out = ''

  constructor(
    readonly id: string,
    args: readonly string[],
    /** A command the worker runs under, e.g. `ip netns exec <ns>` (it execs node: the pid stays the worker's). */
    wrap: readonly string[] = [],
  ) {
    // The workloads carry fixed event times: the workers' clocks move with events only, so every
    // run's output can be compared with one uninterrupted run (clock records: test/engine/clock).
    const command = [...wrap, process.execPath, bin, 'worker', '--id', id, ...args]
    this.proc = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TAGSTREAM_LOG_LEVEL: 'info', TAGSTREAM_CLOCK_TICK_MS: '0' } })
    this.proc.stderr!.on('data', (c: Buffer) => (this.log = (this.log + c.toString()).slice(-20_000)))
    // TAGSTREAM_TEST_WORKER_LOGS=<dir> keeps every worker's full log, for looking into a failure.
    const keep = process.env.TAGSTREAM_TEST_WORKER_LOGS
    if (keep) this.proc.stderr!.pipe(createWriteStream(join(keep, `${id}-${this.proc.pid}.log`)))
    this.exited = new Promise((done) => this.proc.on('exit', (code, signal) => done({ code, signal })))
    this.joined = new Promise((done, fail) => {
      this.proc.stdout!.on('data', (c: Buffer) => {
        this.out += c.toString()
        if (this.out.includes('"worker"')) done()
      })
      void this.exited.then(({ code, signal }) => fail(new Error(`worker ${id} exited (${code ?? signal}) before joining:\n${this.log}`)))
    })
    this.joined.catch(() => {})
  }

  get stderr(): string {
    return this.log
  }

  signal(sig: NodeJS.Signals): void {
    this.proc.kill(sig)
  }
}

/**
 * A describe block's set-up for tests of `tagstream worker` processes: a temp directory with the
 * rules file, fresh topics and a fresh Postgres schema, the Kafka log opened before the tests, and
 * every worker started through `start` killed, then all of it removed, after them.
 */
export function workerSuite(label: string, rules: string, partitions: number) {
  const dir = mkdtempSync(join(tmpdir(), `tagstream-worker-${label}-`))
  const prefix = freshPrefix(label)
  const schema = testSchema(`w${label}`)
  const segments = join(dir, 'rules.yaml')
  const procs: WorkerProcess[] = []
  const suite = {
    dir,
    prefix,
    schema,
    segments,
    procs,
    log: null as unknown as EventLog,
    /** Starts a worker on the suite's log, state and rules. */
    start(id: string, extra: readonly string[] = []): WorkerProcess {
      const w = new WorkerProcess(id, workerArgs(prefix, schema.url, segments, extra))
      procs.push(w)
      return w
    },
  }
  beforeAll(async () => {
    requireKafka()
    writeFileSync(segments, rules)
    suite.log = (await openEventLog(kafkaUrl(prefix), { partitions })).log
  })
  afterAll(async () => {
    for (const p of procs) p.signal('SIGKILL')
    await Promise.all(procs.map((p) => p.exited))
    await (suite.log as EventLog | null)?.close()
    await schema.drop()
    await dropTopics(prefix)
    rmSync(dir, { recursive: true, force: true })
  })
  return suite
}

export function workerArgs(prefix: string, stateUrl: string, segments: string, extra: readonly string[] = [], broker = BROKER): string[] {
  return ['--log', kafkaUrl(prefix, broker), '--state', stateUrl, '--segments', segments, ...FAST, ...extra]
}

/** Polls until `check` returns a value other than undefined; the error names what was awaited and the last value seen. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000, context: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    const got = await check()
    if (got !== undefined) return got
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}\n${context()}`)
    await new Promise((r) => setTimeout(r, 100))
    last = got
  }
}

export interface LeaseRow {
  partition: number
  owner: string | null
  epoch: number
}

export async function leases(schema: string, postgres = TEST_POSTGRES): Promise<LeaseRow[]> {
  const query = `SELECT partition, owner, epoch FROM ${schema}.partition_leases WHERE namespace = 'engine' ORDER BY partition`
  if (postgres === TEST_POSTGRES) return sql<LeaseRow>(query)
  // A chaos test's own server (test/support/pg-instance.ts).
  const client = new pg.Client({ connectionString: postgres })
  await client.connect()
  try {
    return (await client.query<LeaseRow>(query)).rows
  } finally {
    await client.end()
  }
}

/** Workers started by these tests share partitions through leases only with TAGSTREAM_TRANSACTIONS=off (docs/deployment.md). */
export const LEASES = process.env.TAGSTREAM_TRANSACTIONS === 'off'

/**
 * Who holds which partition now, one row per held partition: the members of the workers' Kafka
 * consumer group and the assignments the broker relays (what kafka-consumer-groups --describe
 * shows), or the Postgres leases when the workers use them. A worker's member is known by its client
 * id, `<clientId>-worker-<id>` (src/log/kafka/event-log.ts). `epoch` is 0 for a group member.
 */
export async function holders(prefix: string, schema: string, broker = BROKER, postgres = TEST_POSTGRES): Promise<LeaseRow[]> {
  if (LEASES) return (await leases(schema, postgres)).filter((l) => l.owner !== null)
  return (await workerHolders(broker, prefix)).map((h) => ({ ...h, epoch: 0 }))
}

/** Waits until every one of the partitions is held, none by `worker` (its partitions taken over). */
export function takenOver(prefix: string, schema: string, worker: string, partitions: number, context: () => string, broker = BROKER, postgres = TEST_POSTGRES): Promise<LeaseRow[]> {
  return until(
    `${worker}'s partitions taken over`,
    async () => {
      const now = await holders(prefix, schema, broker, postgres)
      return now.length === partitions && now.every((l) => l.owner !== worker && l.owner !== null) ? now : undefined
    },
    60_000,
    context,
  )
}

/** Partitions per owner, e.g. { a: [0, 2], b: [1, 3] }. */
export function owners(rows: readonly LeaseRow[]): Record<string, number[]> {
  const out: Record<string, number[]> = {}
  for (const r of rows) if (r.owner !== null) (out[r.owner] ??= []).push(r.partition)
  return out
}

/** True once every partition's checkpoint has reached the end of its events partition. */
export async function caughtUp(log: EventLog, store: StateStore, partitions: number): Promise<boolean> {
  for (let p = 0; p < partitions; p++) {
    const { end } = await log.offsets(TOPICS.events, p)
    if (((await store.loadCheckpoint('engine', p))?.nextOffset ?? 0) < end) return false
  }
  return true
}

export { outcome, readAll } from '../engine/outcome.ts'

export const RULES = `
segments:
  high_roller:
    when: count(spin, 20m) >= 30 and sum(in_app_purchase.amount, 20m) > 5
    keep: 2m
  idle_spender:
    when: sum(in_app_purchase.amount) > 0 and count(spin, 10m) < 3
triggers:
  big_buy:
    on: in_app_purchase
    when: amount > 9
  big_bet:
    on: spin
    when: bet > 1
`

/**
 * A slots-like stream in time order: `users` users, `count` events 120 ms of event time apart. Spins
 * bet 2 in the first 80% of the stream (each one a big_bet notification: outputs in every poll) and
 * 1 after (outputs rare), so both a worker with outputs in flight and one without can be caught.
 */
export function workload(count: number, users = 400, seed = 42): TrackedEvent[] {
  let s = seed
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32
  const t0 = Date.UTC(2026, 10, 1, 10)
  const out: TrackedEvent[] = []
  for (let i = 0; i < count; i++) {
    const user = String(1 + Math.floor(rnd() ** 2 * users))
    const purchase = rnd() < 0.02
    const raw = purchase
      ? { event: 'in_app_purchase', user_id: user, ts: t0 + i * 120, amount: [0.99, 4.99, 9.99, 19.99][Math.floor(rnd() * 4)] }
      : { event: 'spin', user_id: user, ts: t0 + i * 120, bet: i < count * 0.8 ? 2 : 1 }
    // Received as it happens: a time later than the receive time would be clamped to it.
    const v = validateEvent({ ...raw, event_id: `e${i}` }, { receivedAt: raw.ts })
    if (!v.ok) throw new Error(v.error.reason)
    out.push(v.event)
  }
  return out
}

export const rulesFile = (dir: string) => join(dir, 'rules.yaml')

/** A run's schema: its name, the state URL naming it, and dropping it. */
export type RunSchema = Pick<ReturnType<typeof testSchema>, 'schema' | 'url' | 'drop'>

/** One run of a crash test: its own topics (by prefix), its own Postgres schema, the log and store opened on them. */
export interface CrashRun {
  prefix: string
  schema: RunSchema
  log: EventLog
  store: PostgresStateStore
}

/**
 * Small polls, each appending its outputs, and a checkpoint only every 20 ms: a worker busy with a
 * backlog nearly always has outputs in the log that no checkpoint covers yet.
 */
export const CRASH_WORKER_ARGS = ['--batch-size', '50', '--checkpoint-ms', '20'] as const

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * The runs and worker processes of a crash test, and their cleanup: every run gets fresh topics and
 * a fresh schema, every worker is SIGKILLed at the end whatever happened, and everything is dropped.
 */
export class CrashRuns {
  readonly dir = mkdtempSync(join(tmpdir(), 'tagstream-worker-crash-'))
  readonly segments = join(this.dir, 'rules.yaml')
  private readonly runs: CrashRun[] = []
  readonly procs: WorkerProcess[] = []

  constructor(
    private readonly label: string,
    readonly partitions: number,
    private readonly extra: readonly string[] = CRASH_WORKER_ARGS,
    /** The runs' broker: the shared test broker, or one a chaos test runs (and restarts) itself. */
    private readonly broker = BROKER,
    /** The runs' Postgres (a URL without schema): the shared test server, or one a chaos test runs itself (test/support/pg-instance.ts). */
    private readonly postgres = TEST_POSTGRES,
  ) {}

  async open(name: string): Promise<CrashRun> {
    const prefix = freshPrefix(name)
    const schema = this.postgres === TEST_POSTGRES ? testSchema(`${this.label}_${name}`) : schemaOn(this.postgres, `${this.label}_${name}`)
    // A chaos test's own server is crashed on purpose: the test's pool losing its idle connections then is no news.
    const quiet = this.postgres === TEST_POSTGRES ? {} : { logger: createLogger('state', 'error') }
    const run = { prefix, schema, log: (await openEventLog(kafkaUrl(prefix, this.broker), { partitions: this.partitions })).log, store: await PostgresStateStore.open(schema.url, quiet) }
    this.runs.push(run)
    return run
  }

  /** Starts a worker on the run; `wrap`: a command it runs under (WorkerProcess). */
  start(run: CrashRun, id: string, wrap: readonly string[] = []): WorkerProcess {
    const w = new WorkerProcess(id, workerArgs(run.prefix, run.schema.url, this.segments, this.extra, this.broker), wrap)
    this.procs.push(w)
    return w
  }

  /** Waits until every partition of the run is checkpointed at the end of its events. */
  done(run: CrashRun, timeoutMs = 60_000): Promise<true> {
    return until('every partition checkpointed at the end of the log', async () => ((await caughtUp(run.log, run.store, this.partitions)) ? true : undefined), timeoutMs, this.logs)
  }

  /** The reference: one worker over all of `events`, never interrupted, stopped with SIGTERM. */
  async calm(events: readonly TrackedEvent[], timeoutMs = 60_000): Promise<CrashRun> {
    const calm = await this.open('calm')
    for (let i = 0; i < events.length; i += 1_000) await appendEvents(calm.log, events.slice(i, i + 1_000), this.partitions)
    const solo = this.start(calm, 'solo')
    await solo.joined
    await this.done(calm, timeoutMs)
    solo.signal('SIGTERM')
    expect(await solo.exited).toEqual({ code: 0, signal: null })
    return calm
  }

  /** Every output stream per partition, the users and the checkpoints of `run` equal the calm run's. */
  async expectSameAs(run: CrashRun, calm: CrashRun): Promise<void> {
    const a = await outcome(calm.log, calm.store, this.partitions)
    const b = await outcome(run.log, run.store, this.partitions)
    expect(a.changes.flat().length).toBeGreaterThan(50)
    expect(a.notifications.flat().length).toBeGreaterThan(50)
    for (let p = 0; p < this.partitions; p++) {
      expect(b.changes[p], `segment changes of partition ${p}`).toEqual(a.changes[p])
      expect(b.notifications[p], `notifications of partition ${p}`).toEqual(a.notifications[p])
      expect(b.players[p], `player notifications of partition ${p}`).toEqual(a.players[p])
      expect(b.buys[p], `buy events of partition ${p}`).toEqual(a.buys[p])
    }
    expect(b.users).toEqual(a.users)
    expect(b.checkpoints).toEqual(a.checkpoints)
  }

  /** The tail of every worker's log, for a failure message. */
  logs = (): string => this.procs.map((p) => `--- ${p.id}\n${p.stderr.slice(-3_000)}`).join('\n')

  async cleanup(): Promise<void> {
    for (const p of this.procs) p.signal('SIGKILL')
    await Promise.all(this.procs.map((p) => p.exited))
    for (const r of this.runs) {
      await r.log.close()
      await r.store.close()
      await r.schema.drop()
      if (this.broker === BROKER) await dropTopics(r.prefix)
    }
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** A fresh schema (named as testSchema names them) on a Postgres server of a test's own. */
function schemaOn(server: string, label: string): RunSchema {
  const { schema } = testSchema(label)
  return {
    schema,
    url: `${server}${server.includes('?') ? '&' : '?'}schema=${schema}`,
    drop: async () => {
      const client = new pg.Client({ connectionString: server })
      await client.connect()
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      } finally {
        await client.end()
      }
    },
  }
}
