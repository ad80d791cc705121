import { execSync, spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { resolve } from 'node:path'
import { Admin } from '@platformatic/kafka'
import pg from 'pg'
import { partitionOfUser, validateEvent } from '../src/events/index.ts'
import { encodeEventAs } from '../src/events/codec.ts'
import { DEFAULT_EVENTS_FORMAT, type EventsFormat } from '../src/events/events-format.ts'
import { TOPICS, type AppendRecord, type EventLog } from '../src/log/event-log.ts'
import { openEventLog } from '../src/log/open-log.ts'
import { planSlots, slotsEventAt } from '../src/sim/index.ts'
import { fmt, onBroker, type Section } from './report.ts'
import { binNodeFlags } from './serve-process.ts'
import { workerHolders } from '../test/support/kafka-group.ts'

const BROKER = process.env.BENCH_KAFKA ?? '127.0.0.1:9092'
const SERVER = process.env.TAGSTREAM_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test'
// 10M spin attempts: seed 000's own 2.8M events (5,000 users, 3 hours), as in the engine section.
const SPINS = Number(process.env.BENCH_WORKER_SPINS ?? 10_000_000)
const PARTITIONS = 8
const RULES = resolve(import.meta.dirname, '../examples/segments.yaml')
const BIN = resolve(import.meta.dirname, '../bin/tagstream.mjs')
// The worker's default. Progress is read from the checkpoints, so it moves in steps of up to 1 s of
// one partition's work: the 10–90% window spans many of them.
const CHECKPOINT_MS = Number(process.env.BENCH_WORKER_CHECKPOINT_MS ?? 1_000)
const TICKS = Number(execSync('getconf CLK_TCK').toString()) || 100

/** Least-squares slope of y over x; null for fewer than two distinct x. */
function slope(points: Array<[number, number]>): number | null {
  if (points.length < 2) return null
  const mx = points.reduce((a, [x]) => a + x, 0) / points.length
  const my = points.reduce((a, [, y]) => a + y, 0) / points.length
  let num = 0
  let den = 0
  for (const [x, y] of points) {
    num += (x - mx) * (y - my)
    den += (x - mx) ** 2
  }
  return den === 0 ? null : num / den
}

/** CPU seconds (user + system) a live process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICKS
}

/** The whole machine's busy and total CPU ticks, from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const v = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
  const total = v.reduce((a, b) => a + b, 0)
  return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total }
}

interface Run {
  /** Events per second between the moment the group is balanced (or 10% done) and 90% done. */
  rate: number
  /** Worker processes' CPU time per event in that window, in µs. */
  workerCpuMicros: number
  /** Worker processes' CPU time from their start to the last checkpoint, per event, in µs (start-up and JIT warm-up included). */
  wholeCpuMicros: number
  /** Share of the machine's CPU busy in that window (every process: workers, broker, Postgres, this one). */
  machineBusy: number
  /** From the first worker's start to every checkpoint at the end of the log. */
  wallSeconds: number
  /** Only for runs that move partitions at the end: SIGTERM of one of two workers to every partition held by the other. */
  handoverMs?: number
  /** …and SIGKILL of one of two workers to every partition held by the other. */
  failoverMs?: number
}

const HOUR = 3_600_000

/**
 * Appends the workload `copies` times, each copy 3 hours after the one before (seed 000 spans 3
 * hours), its event ids suffixed with the copy's number, so every copy is the same work.
 */
async function fill(log: EventLog, copies: number, format: EventsFormat): Promise<number> {
  const plan = planSlots({ spins: SPINS })
  const parts: AppendRecord[][] = Array.from({ length: PARTITIONS }, () => [])
  for (let k = 0; k < copies; k++) {
    for (let i = 0; i < plan.count; i++) {
      const raw = slotsEventAt(plan, i)
      const v = validateEvent(raw, { receivedAt: raw.ts })
      if (!v.ok) throw new Error(v.error.reason)
      const e = k === 0 ? v.event : { ...v.event, ts: v.event.ts + k * 3 * HOUR, received_at: v.event.received_at + k * 3 * HOUR, event_id: `${v.event.event_id}-${k}` }
      parts[partitionOfUser(e.tenant, e.user_id, PARTITIONS)]!.push({ key: `${e.tenant}:${e.user_id}`, value: encodeEventAs(e, format), timestamp: e.received_at })
    }
  }
  // One lane per partition keeps each partition in time order, as a collector's appends are.
  await Promise.all(
    parts.map(async (records, p) => {
      for (let i = 0; i < records.length; i += 1_000) await log.append(TOPICS.events, p, records.slice(i, i + 1_000))
    }),
  )
  return plan.count * copies
}

function worker(id: string, prefix: string, stateUrl: string, rules: string, transactions: boolean): { proc: ChildProcess; exited: Promise<unknown>; gone: () => boolean } {
  const proc = spawn(
    process.execPath,
    [
      ...binNodeFlags(),
      BIN,
      'worker',
      '--id',
      id,
      '--log',
      `kafka://${BROKER}?prefix=${prefix}&clientId=bench-${id}`,
      '--state',
      stateUrl,
      '--segments',
      rules,
      '--checkpoint-ms',
      String(CHECKPOINT_MS),
      '--transactions',
      transactions ? 'on' : 'off',
    ],
    {
      stdio: ['ignore', process.env.BENCH_WORKER_STDOUT === '1' ? 'inherit' : 'ignore', 'inherit'],
      // The workload's event times are fixed (seed 000's 3 hours): the clock moves with events only,
      // so every run segments the same history, comparable from run to run.
      env: { ...process.env, TAGSTREAM_LOG_LEVEL: 'warn', TAGSTREAM_CLOCK_TICK_MS: '0' },
    },
  )
  let gone = false
  return { proc, exited: new Promise((done) => proc.on('exit', () => done((gone = true)))), gone: () => gone }
}

/**
 * One group of `workers` workers over the workload appended `copies` times; the window is the 10–90%
 * of the last copy (with one copy, of the log), so with two the workers are measured after a whole
 * copy's warm-up, as a long-running worker runs.
 */
export async function runGroup(
  workers: number,
  measureMoves: boolean,
  rules = RULES,
  copies = 1,
  transactions = true,
  /** How the events are stored (docs/kafka.md "Record formats"): what collectors write by default, or the binary envelope. */
  format: EventsFormat = DEFAULT_EVENTS_FORMAT,
): Promise<Run & { events: number; changes: number; users: number; stateBytes: number }> {
  const prefix = `bench-worker-${randomUUID().slice(0, 8)}-`
  const schema = `tagstream_bench_worker_${process.pid}_${workers}_${Date.now().toString(36)}`
  const stateUrl = `${SERVER}${SERVER.includes('?') ? '&' : '?'}schema=${schema}`
  const { log } = await openEventLog(`kafka://${BROKER}?prefix=${prefix}&clientId=tagstream-bench`, { partitions: PARTITIONS })
  const db = new pg.Client({ connectionString: SERVER })
  await db.connect()
  const procs: Array<ReturnType<typeof worker>> = []
  try {
    const events = await fill(log, copies, format)
    const progress = async () =>
      Number((await db.query<{ n: string }>(`SELECT coalesce(sum((checkpoint->>'nextOffset')::bigint), 0) AS n FROM ${schema}.checkpoints WHERE namespace = 'engine'`)).rows[0]!.n)
    // Partitions per worker: the Kafka group's assignments (transactions on), or the live leases (off).
    const held = async (): Promise<Map<string, number>> => {
      const out = new Map<string, number>()
      if (transactions) {
        for (const { owner } of await workerHolders(BROKER, prefix)) out.set(owner, (out.get(owner) ?? 0) + 1)
        return out
      }
      const { rows } = await db.query<{ owner: string; n: number }>(
        `SELECT owner, count(*)::integer AS n FROM ${schema}.partition_leases l JOIN ${schema}.workers w ON w.namespace = l.namespace AND w.id = l.owner WHERE w.expires > now() GROUP BY owner`,
      )
      for (const r of rows) out.set(r.owner, r.n)
      return out
    }
    const balanced = async () => {
      const by = await held()
      return by.size === workers && [...by.values()].every((n) => n === PARTITIONS / workers)
    }
    const t0 = performance.now()
    for (let i = 0; i < workers; i++) procs.push(worker(`w${i}`, prefix, stateUrl, rules, transactions))
    const samples: Array<{ t: number; n: number; cpu: number; busy: number; ticks: number }> = []
    let stableAt: number | null = null
    for (;;) {
      await new Promise((r) => setTimeout(r, 100))
      const dead = procs.findIndex((w) => w.gone())
      if (dead !== -1) throw new Error(`worker w${dead} exited before the log was processed (see its log above)`)
      if (performance.now() - t0 > 600_000) throw new Error('workers did not finish within 10 minutes')
      let n = 0
      try {
        n = await progress()
        if (stableAt === null && (await balanced())) stableAt = performance.now()
      } catch {
        continue // tables not created yet
      }
      const machine = machineTicks()
      samples.push({ t: performance.now(), n, cpu: procs.reduce((a, w) => a + cpuSeconds(w.proc.pid!), 0), busy: machine.busy, ticks: machine.total })
      if (n >= events) break
    }
    const wallSeconds = (performance.now() - t0) / 1000
    // 10% and 90% of the last copy, in events of the whole log.
    const part = (fraction: number) => (events * (copies - 1 + fraction)) / copies
    const at = (fraction: number) => samples.find((s) => s.n >= part(fraction))!
    const from = samples.find((s) => s.t >= (stableAt ?? 0) && s.n >= part(0.1)) ?? at(0.1)
    const to = at(0.9)
    // Progress moves in steps (one partition's checkpoint at a time): the least-squares slope over
    // every sample of the window is steadier than the two end points.
    const window = samples.filter((x) => x.t >= from.t && x.t <= to.t)
    const rate = slope(window.map((x) => [x.t / 1000, x.n])) ?? NaN
    const workerCpuMicros = ((to.cpu - from.cpu) * 1e6) / (rate * ((to.t - from.t) / 1000))
    const machineBusy = (to.busy - from.busy) / (to.ticks - from.ticks)
    const wholeCpuMicros = (samples[samples.length - 1]!.cpu * 1e6) / events
    let moves: { handoverMs: number; failoverMs: number } | undefined
    if (measureMoves) {
      const untilHeld = async (owner: string, n: number) => {
        while ((await held()).get(owner) !== n) await new Promise((r) => setTimeout(r, 20))
      }
      // A clean stop: w0 checkpoints, hands over and leaves; w1 takes everything in the rebalance that follows.
      let t = performance.now()
      procs[0]!.proc.kill('SIGTERM')
      await untilHeld('w1', PARTITIONS)
      const handoverMs = performance.now() - t
      // A crash: a third worker joins, gets half, and is SIGKILLed; its group session (or leases) has to expire.
      procs.push(worker('w2', prefix, stateUrl, rules, transactions))
      await untilHeld('w2', PARTITIONS / 2)
      t = performance.now()
      procs[2]!.proc.kill('SIGKILL')
      await untilHeld('w1', PARTITIONS)
      moves = { handoverMs, failoverMs: performance.now() - t }
    }
    const stored = (await db.query<{ bytes: number; users: number }>(`SELECT avg(length(state))::float AS bytes, count(*)::integer AS users FROM ${schema}.users`)).rows[0]!
    let changes = 0
    for (let p = 0; p < PARTITIONS; p++) changes += (await log.offsets(TOPICS.segmentChanges, p)).end
    return { rate, workerCpuMicros, wholeCpuMicros, machineBusy, wallSeconds, events, changes, users: stored.users, stateBytes: stored.bytes, ...moves }
  } finally {
    for (const w of procs) w.proc.kill('SIGTERM')
    await Promise.all(procs.map((w) => w.exited))
    await log.close()
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await db.end()
    const admin = new Admin({ clientId: 'tagstream-bench-cleanup', bootstrapBrokers: [BROKER] })
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix))
    if (mine.length > 0) await admin.deleteTopics({ topics: mine })
    await admin.close()
  }
}

/**
 * `tagstream worker` end to end through Kafka: the events are in the topic first; then 1 and then 2
 * worker processes read them, segment them, append the segment changes and notifications to Kafka and
 * checkpoint to Postgres. The rate is the slope of the checkpoints' progress in Postgres (sampled
 * every 100 ms) from the moment the group is balanced (or 10% is done, whichever is later) to 90% done.
 */
export async function benchWorker(): Promise<Section> {
  return onBroker(measure)
}

async function measure(): Promise<Section> {
  const one = await runGroup(1, false)
  const two = await runGroup(2, true)
  // The same two workers with --transactions off (Postgres leases and their append guard, as before): the comparison.
  const plain = await runGroup(2, true, RULES, 1, false)
  // The same two workers over events stored in the binary envelope instead of JSON: the format's cost.
  const binary = await runGroup(2, false, RULES, 1, true, 'binary')
  return {
    title: 'Engine workers on Kafka and Postgres (tagstream worker)',
    description:
      `${fmt(one.events)} events of seed 000's workload (5,000 users, 3 hours of event time) already in an 8-partition events topic on one local ` +
      "KRaft broker, stored as collectors store them by default (JSON; one two-worker run over the binary envelope instead, for the format's cost); " +
      '`tagstream worker` processes (examples/segments.yaml: 4 segments, 1 trigger) read them, segment them, append ' +
      `${fmt(one.changes)} segment changes and the notifications to Kafka in each partition's transaction (committed every 100 ms once caught up, and before each checkpoint) ` +
      `and checkpoint each partition to Postgres 15 every ${CHECKPOINT_MS} ms (fenced by its writer's token); one run does the same with ` +
      '`--transactions off` (partitions shared through Postgres leases, plain idempotent appends guarded by the lease: the design before), for comparison. Each worker is its own process; ' +
      "the broker, Postgres and the workers share the same two cores, so two workers cannot reach twice one. Partitions are shared by Kafka's consumer-group protocol (cooperative; " +
      'session 1.5 s, heartbeat 250 ms). At the end of each two-worker run one worker is stopped with SIGTERM (it checkpoints, hands over and leaves the group), ' +
      'then a third joins, takes half and is SIGKILLed: its session must expire (its leases, 5 s, with transactions off); the time is until the survivor holds every partition.',
    figures: [
      { name: 'end to end through Kafka, 1 worker', value: one.rate, unit: 'events/s' },
      { name: 'end to end through Kafka, 2 workers (transactions on)', value: two.rate, unit: 'events/s', target: '≥ 500,000 events/s', met: two.rate >= 500_000 },
      { name: 'end to end through Kafka, 2 workers, transactions off', value: plain.rate, unit: 'events/s' },
      { name: 'transactions: 2 workers on ÷ off', value: two.rate / plain.rate, unit: '×' },
      { name: 'end to end through Kafka, 2 workers, events stored in the binary envelope', value: binary.rate, unit: 'events/s' },
      { name: 'events format: 2 workers JSON ÷ binary', value: two.rate / binary.rate, unit: '×' },
      { name: 'worker CPU per event, 2 workers, binary envelope', value: binary.workerCpuMicros, unit: 'µs' },
      { name: 'scaling from 1 to 2 workers', value: two.rate / one.rate, unit: '×' },
      { name: 'worker CPU per event, 1 worker', value: one.workerCpuMicros, unit: 'µs' },
      { name: 'worker CPU per event, 2 workers', value: two.workerCpuMicros, unit: 'µs' },
      { name: 'worker CPU per event, 2 workers, transactions off', value: plain.workerCpuMicros, unit: 'µs' },
      // What the workers do not use of the busy machine: the broker, Postgres, this process polling.
      { name: 'broker, Postgres and the rest: CPU per event, 1 worker', value: (one.machineBusy * cpus().length * 1e6) / one.rate - one.workerCpuMicros, unit: 'µs' },
      { name: `machine CPU busy (${cpus().length} cores), 1 worker`, value: one.machineBusy * 100, unit: '%' },
      { name: `machine CPU busy (${cpus().length} cores), 2 workers`, value: two.machineBusy * 100, unit: '%' },
      { name: `stored engine state per user (${fmt(one.users)} users)`, value: one.stateBytes, unit: 'bytes' },
      { name: 'catch-up wall time, 1 worker (process start to last checkpoint)', value: one.wallSeconds, unit: 's' },
      { name: 'catch-up wall time, 2 workers', value: two.wallSeconds, unit: 's' },
      { name: 'handover after SIGTERM of one of two workers (all partitions held by the other)', value: two.handoverMs ?? NaN, unit: 'ms' },
      { name: 'failover after SIGKILL of one of two workers', value: two.failoverMs ?? NaN, unit: 'ms', target: '≤ 2,000 ms', met: (two.failoverMs ?? Infinity) <= 2_000 },
      { name: 'handover after SIGTERM, transactions off (Postgres leases)', value: plain.handoverMs ?? NaN, unit: 'ms' },
      { name: 'failover after SIGKILL, transactions off (Postgres leases)', value: plain.failoverMs ?? NaN, unit: 'ms' },
    ],
  }
}
