import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  DEMO_SHARES,
  DEMO_WORKLOADS,
  HttpTarget,
  PARTNERS,
  clickstreamEvents,
  gameRequests,
  newStats,
  partnerKeys,
  sendEvents,
  sendGame,
  slotsStream,
  wallClock,
  type Clock,
  type SendStats,
  type SimulatorName,
} from '../src/sim/index.ts'
import { DEMO_DEFAULTS } from '../src/cli/demo.ts'
import { EVENTS_DIR, PARQUET_EXT, parseDtDir, parseEventDir, parsePartFileName } from '../src/warehouse/layout.ts'
import { inventory } from '../src/warehouse/query/views.ts'
import { DAY_MS } from '../src/warehouse/retention.ts'
import { fmt, type Figure, type Section } from './report.ts'
import { BENCH_KEY, startServeProcess } from './serve-process.ts'

/*
 * Issue 16, item 6: a soak. One `tagstream serve` (embedded storage, warehouse sink on, the demo's
 * segments and triggers) is fed the demo's traffic mix in two phases:
 *
 * 1. a simulated day: the demo's rate, with event times spread over the 24 h of yesterday (UTC),
 *    time-compressed so that each wall second advances event time by 86,400 s / duration;
 * 2. a fixed rate (default 10,000 events/s) of the same mix, stamped with the current time.
 *
 * Then, once the warehouse counts every acknowledged event: files per (day, event, partition),
 * bytes per row, and the latency of every named report over the HTTP API the dashboard uses.
 */

const DAY_S = Number(process.env.TAGSTREAM_SOAK_DAY_S ?? 600)
const RATE_S = Number(process.env.TAGSTREAM_SOAK_RATE_S ?? 600)
const RATE = Number(process.env.TAGSTREAM_SOAK_RATE ?? 10_000)
const DEMO_RATE = DEMO_DEFAULTS.rate
/** Runs of each report; its figure is the slowest. */
const REPORT_RUNS = 3
const REPORT_TARGET_MS = 1_000
const FILES_TARGET = 3
const CATCH_UP_MS = 600_000
const HOUR_MS = 3_600_000

const RULES = readFileSync(fileURLToPath(new URL('../examples/demo-segments.yaml', import.meta.url)), 'utf8')
/** The clickstream partners after the first get tenants of their own, as in the demo. */
const PARTNER_TENANTS = PARTNERS.slice(1, DEMO_WORKLOADS.clickstream.partners).map((p) => p.name)
const partnerKey = (tenant: string) => `soak-${tenant}-key`

interface PhaseResult {
  stats: Record<SimulatorName, SendStats>
  seconds: number
  errors: string[]
}

const acked = (p: PhaseResult) => p.stats.slots.accepted + p.stats.clickstream.accepted + p.stats.game.accepted

/**
 * The demo's three simulators (startDemoTraffic's shares and workloads) for `seconds`, with the
 * slots and clickstream events stamped by `clock`. The game's events are stamped by the server
 * (the Game API takes no event time), so they carry the time they arrive in either phase.
 */
async function runMix(url: string, rate: number, seconds: number, clock: Clock, senders: { batch: number; concurrency: number; gameLanes: number }): Promise<PhaseResult> {
  const share = (name: SimulatorName) => Math.max(1, Math.round(rate * DEMO_SHARES[name]))
  const stats: Record<SimulatorName, SendStats> = { slots: newStats(), clickstream: newStats(), game: newStats() }
  const track = (name: SimulatorName) => (s: SendStats) => void (stats[name] = s)
  const errors: string[] = []
  const abort = new AbortController()
  const targets = [new HttpTarget(url, senders.concurrency), new HttpTarget(url, senders.concurrency), new HttpTarget(url, senders.gameLanes)] as const
  const common = { signal: abort.signal, batch: senders.batch, concurrency: senders.concurrency }
  const runs: Array<[SimulatorName, Promise<SendStats>]> = [
    ['slots', sendEvents(slotsStream(DEMO_WORKLOADS.slots, clock), { ...common, target: targets[0], keyFor: () => BENCH_KEY, rate: share('slots'), onProgress: track('slots') })],
    [
      'clickstream',
      sendEvents(clickstreamEvents(DEMO_WORKLOADS.clickstream, clock), {
        ...common,
        target: targets[1],
        keyFor: partnerKeys(DEMO_WORKLOADS.clickstream.partners, [BENCH_KEY, ...PARTNER_TENANTS.map(partnerKey)]),
        rate: share('clickstream'),
        onProgress: track('clickstream'),
      }),
    ],
    ['game', sendGame(gameRequests(DEMO_WORKLOADS.game), { target: targets[2], key: BENCH_KEY, concurrency: senders.gameLanes, rate: share('game'), signal: abort.signal, onProgress: track('game') })],
  ]
  const t0 = performance.now()
  const timer = setTimeout(() => abort.abort(), seconds * 1000)
  await Promise.all(runs.map(([name, run]) => run.then(track(name), (err: unknown) => void errors.push(`${name}: ${(err as Error).message}`))))
  clearTimeout(timer)
  const elapsed = (performance.now() - t0) / 1000
  for (const t of targets) t.close()
  return { stats, seconds: elapsed, errors }
}

async function api(url: string, path: string, init?: RequestInit): Promise<{ status: number; body: unknown; text: string }> {
  const res = await fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json', ...init?.headers } })
  const text = await res.text()
  let body: unknown = null
  try {
    body = JSON.parse(text)
  } catch {
    // not JSON
  }
  return { status: res.status, body, text }
}

async function warehouseRows(url: string): Promise<number> {
  const r = await api(url, '/v1/query', { method: 'POST', body: JSON.stringify({ sql: 'SELECT count(*) AS n FROM events' }) })
  if (r.status !== 200) throw new Error(`POST /v1/query answered ${r.status}: ${r.text.slice(0, 300)}`)
  return Number((r.body as { rows: unknown[][] }).rows[0]![0])
}

/** Resident and peak resident memory of a process, from /proc (Linux), in bytes; null elsewhere. */
function rss(pid: number): { rss: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024
    return { rss: kb('VmRSS'), peak: kb('VmHWM') }
  } catch {
    return null
  }
}

interface FileCounts {
  /** Every .parquet file under events/, superseded ones included. */
  onDisk: number
  live: number
  liveBytes: number
  groups: number
  /** Per (day, event, partition): live files written before the current UTC hour / within it. */
  outside: number[]
  within: number[]
  /** Per (day, event, partition) of days before today (by event time, whatever the mtime): live files. */
  pastDays: number[]
}

/** Event files of the warehouse, grouped by (day, event, partition); a file's age is its mtime (when its newest row was written). */
async function countFiles(root: string, now: number): Promise<FileCounts> {
  const hourStart = Math.floor(now / HOUR_MS) * HOUR_MS
  let onDisk = 0
  const base = join(root, EVENTS_DIR)
  for (const dt of readdirSafe(base)) {
    if (parseDtDir(dt) === null) continue
    for (const ev of readdirSafe(join(base, dt))) {
      if (parseEventDir(ev) === null) continue
      onDisk += readdirSafe(join(base, dt, ev)).filter((n) => n.endsWith(PARQUET_EXT)).length
    }
  }
  const today = new Date(now).toISOString().slice(0, 10)
  const groups = new Map<string, { outside: number; within: number; past: boolean }>()
  let live = 0
  let liveBytes = 0
  for (const paths of Object.values((await inventory(root)).events)) {
    for (const path of paths) {
      let st
      try {
        st = statSync(path)
      } catch {
        continue // swept between the listing and now
      }
      const range = parsePartFileName(basename(path))
      const dt = parseDtDir(basename(dirname(dirname(path))))
      const key = `${dt}/${basename(dirname(path))}/${range?.partition ?? '?'}`
      const g = groups.get(key) ?? { outside: 0, within: 0, past: dt !== null && dt < today }
      if (st.mtimeMs < hourStart) g.outside++
      else g.within++
      groups.set(key, g)
      live++
      liveBytes += st.size
    }
  }
  const all = [...groups.values()]
  return {
    onDisk,
    live,
    liveBytes,
    groups: all.length,
    outside: all.filter((g) => g.outside > 0).map((g) => g.outside),
    within: all.filter((g) => g.within > 0).map((g) => g.within),
    pastDays: all.filter((g) => g.past).map((g) => g.outside + g.within),
  }
}

function readdirSafe(path: string): string[] {
  try {
    return readdirSync(path)
  } catch {
    return []
  }
}

const max = (xs: number[]) => xs.reduce((m, x) => Math.max(m, x), 0)
const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length)

function mix(p: PhaseResult): string {
  const r = (n: number) => fmt(n / p.seconds)
  return `slots ${r(p.stats.slots.accepted)}, clickstream ${r(p.stats.clickstream.accepted)}, game ${r(p.stats.game.accepted)} events/s`
}

export async function benchSoak(): Promise<Section> {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-bench-soak-'))
  const keys = [`${BENCH_KEY}:default:write+read+admin+operator`, ...PARTNER_TENANTS.map((t) => `${partnerKey(t)}:${t}:write+read`)].join(',')
  const server = await startServeProcess(join(dir, 'serve'), RULES, [], { TAGSTREAM_API_KEYS: keys })
  try {
    // Phase 1: yesterday (UTC), compressed into DAY_S seconds of wall time at the demo's rate.
    const dayStart = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS
    const day = new Date(dayStart).toISOString().slice(0, 10)
    let t0 = 0
    const dayClock: Clock = () => {
      t0 ||= performance.now()
      return dayStart + Math.min(DAY_MS - 1, Math.floor(((performance.now() - t0) * DAY_MS) / (DAY_S * 1000)))
    }
    process.stderr.write(`  soak: simulated day ${day}, ${DAY_S} s at ${DEMO_RATE} events/s…\n`)
    const dayPhase = await runMix(server.url, DEMO_RATE, DAY_S, dayClock, { batch: 200, concurrency: 2, gameLanes: 4 })

    // Phase 2: RATE events/s of the same mix, stamped now.
    process.stderr.write(`  soak: ${fmt(RATE)} events/s for ${RATE_S} s…\n`)
    const lanes = Math.max(4, Math.ceil((RATE * DEMO_SHARES.game) / 100))
    const ratePhase = await runMix(server.url, RATE, RATE_S, wallClock, { batch: 1_000, concurrency: 8, gameLanes: lanes })
    const sentEnd = performance.now()

    // Until the warehouse counts every acknowledged event.
    const acknowledged = acked(dayPhase) + acked(ratePhase)
    process.stderr.write(`  soak: ${fmt(acknowledged)} events acknowledged; waiting for the warehouse…\n`)
    let rows = 0
    const deadline = Date.now() + CATCH_UP_MS
    while ((rows = await warehouseRows(server.url)) < acknowledged && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500))
    const catchUpS = (performance.now() - sentEnd) / 1000

    const measuredAt = Date.now()
    const files = await countFiles(join(dir, 'serve', 'warehouse'), measuredAt)

    // Every named report, as the dashboard runs them (GET /v1/reports/:name, the key's tenant).
    const list = await api(server.url, '/v1/reports')
    if (list.status !== 200) throw new Error(`GET /v1/reports answered ${list.status}: ${list.text.slice(0, 300)}`)
    const names = (list.body as { reports: Array<{ name: string }> }).reports.map((r) => r.name)
    const reports: Array<{ name: string; ms: number[]; error?: string }> = []
    for (const name of names) {
      const ms: number[] = []
      let error: string | undefined
      for (let i = 0; i < REPORT_RUNS; i++) {
        const t = performance.now()
        const r = await api(server.url, `/v1/reports/${encodeURIComponent(name)}`)
        ms.push(performance.now() - t)
        if (r.status !== 200) error ??= `${r.status}: ${r.text.slice(0, 200)}`
      }
      reports.push({ name, ms, ...(error ? { error } : {}) })
    }
    const mem = rss(server.proc.pid!)

    const errors = [
      ...dayPhase.errors.map((e) => `simulated day: ${e}`),
      ...ratePhase.errors.map((e) => `fixed rate: ${e}`),
      ...reports.filter((r) => r.error).map((r) => `report ${r.name}: ${r.error}`),
    ]
    const slowest = reports.reduce((m, r) => Math.max(m, ...r.ms), 0)
    const outsideMax = max(files.outside)
    const figures: Figure[] = [
      {
        name: 'simulated day: events acknowledged per second',
        value: acked(dayPhase) / dayPhase.seconds,
        unit: 'events/s',
        notes: `${fmt(acked(dayPhase))} events in ${fmt(dayPhase.seconds)} s; ${mix(dayPhase)}`,
      },
      {
        name: `fixed rate: events acknowledged per second (asked ${fmt(RATE)})`,
        value: acked(ratePhase) / ratePhase.seconds,
        unit: 'events/s',
        notes: `${fmt(acked(ratePhase))} events in ${fmt(ratePhase.seconds)} s; ${mix(ratePhase)}; ${ratePhase.stats.slots.retries + ratePhase.stats.clickstream.retries + ratePhase.stats.game.retries} retried requests`,
      },
      { name: 'sink caught up after the last request', value: catchUpS, unit: 's', notes: rows === acknowledged ? 'every acknowledged event counted' : `gave up after ${CATCH_UP_MS / 1000} s` },
      { name: 'rows in the warehouse', value: rows, unit: 'rows', notes: `${fmt(acknowledged)} acknowledged` },
      { name: 'event files on disk', value: files.onDisk, unit: 'files', notes: `${fmt(files.live)} live, the rest superseded and awaiting removal; ${files.groups} (day, event, partition)` },
      {
        name: 'live files per (day, event, partition) outside the current hour, max',
        value: outsideMax,
        unit: 'files',
        target: `≤ ${FILES_TARGET}`,
        // None at all says nothing either way: every file was written in the current hour.
        ...(files.outside.length > 0 ? { met: outsideMax <= FILES_TARGET } : {}),
        notes:
          files.outside.length > 0
            ? `mean ${fmt(mean(files.outside))} over ${files.outside.length} with such files`
            : 'none: every live file was written within the current hour, so the run did not test this',
      },
      {
        name: 'live files per (day, event, partition) within the current hour, max',
        value: max(files.within),
        unit: 'files',
        notes: `mean ${fmt(mean(files.within))} over ${files.within.length} with such files`,
      },
      {
        name: 'live files per (day, event, partition) of past days (by event time, any mtime), max',
        value: max(files.pastDays),
        unit: 'files',
        notes: `mean ${fmt(mean(files.pastDays))} over ${files.pastDays.length}: the simulated day`,
      },
      { name: 'bytes per row (live event files)', value: rows > 0 ? files.liveBytes / rows : 0, unit: 'B', notes: `${fmt(files.liveBytes / 1024 ** 2)} MiB` },
      ...reports.map((r): Figure => {
        const worst = Math.max(...r.ms)
        return {
          name: `report ${r.name}`,
          value: worst,
          unit: 'ms',
          target: `< ${fmt(REPORT_TARGET_MS)} ms`,
          met: !r.error && worst < REPORT_TARGET_MS,
          notes: `slowest of ${REPORT_RUNS}: ${r.ms.map((m) => fmt(m)).join(', ')} ms${r.error ? `; failed ${r.error}` : ''}`,
        }
      }),
      {
        name: 'slowest report',
        value: slowest,
        unit: 'ms',
        target: `< ${fmt(REPORT_TARGET_MS)} ms`,
        met: slowest < REPORT_TARGET_MS && reports.every((r) => !r.error),
        notes: `${reports.length} reports`,
      },
    ]
    if (mem) figures.push({ name: 'server RSS at the end', value: mem.rss / 1024 ** 2, unit: 'MiB', notes: `peak ${fmt(mem.peak / 1024 ** 2)} MiB` })

    const hour = new Date(Math.floor(measuredAt / HOUR_MS) * HOUR_MS).toISOString().slice(11, 16)
    return {
      title: 'Soak: the live server over a simulated day and at a fixed rate (issue 16, item 6)',
      description:
        `\`tagstream serve\` in its own process on embedded storage with the Parquet sink on (live compaction as configured), the demo's segments and triggers, ` +
        `and the demo's three simulators over HTTP (slots ${DEMO_SHARES.slots * 100}%, clickstream ${DEMO_SHARES.clickstream * 100}% over ${DEMO_WORKLOADS.clickstream.partners} partner tenants, game ${DEMO_SHARES.game * 100}% through the Game API). ` +
        `Phase 1, a simulated day: ${DEMO_RATE} events/s (the demo's rate) for ${DAY_S} s (TAGSTREAM_SOAK_DAY_S), slots and clickstream events stamped over the 24 h of ${day} UTC, ` +
        `each wall second advancing event time by ${fmt(86_400 / DAY_S)} s, 200 events per request and 2 in flight per simulator as in the demo; the Game API stamps its events on arrival, so the game's share lands in the current hour. ` +
        `Phase 2: ${fmt(RATE)} events/s (TAGSTREAM_SOAK_RATE) of the same mix stamped now, for ${RATE_S} s (TAGSTREAM_SOAK_RATE_S), 1,000 events per request and 8 in flight per simulator, the game in ${lanes} lanes (its workload, 10 sessions at once, is the demo's). ` +
        `At the end, once \`SELECT count(*) FROM events\` counts every acknowledged event: event files per (day, event, partition), live ones only (superseded merge inputs left out), ` +
        `split by mtime (when the newest row was written) before or within the current UTC hour (from ${hour}); bytes per row over the live files; ` +
        `each named report (GET /v1/reports) run ${REPORT_RUNS} times in turn through GET /v1/reports/:name with the default tenant's key, as the dashboard runs them; the server's RSS from /proc.` +
        (errors.length > 0 ? ` Problems: ${errors.join('; ')}.` : ''),
      figures,
    }
  } finally {
    await server.stop()
    // TAGSTREAM_SOAK_KEEP=1 leaves the data directory to look into (its path on stderr).
    if (process.env.TAGSTREAM_SOAK_KEEP === '1') process.stderr.write(`  soak: data kept in ${dir}\n`)
    else rmSync(dir, { recursive: true, force: true })
  }
}
