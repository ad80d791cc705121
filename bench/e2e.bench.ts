import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { validateEvent, type TrackedEvent } from '../src/events/index.ts'
import { appendEvents } from '../src/ingest/append-events.ts'
import { openEventLog } from '../src/log/open-log.ts'
import { HttpTarget, planSlots, sendEvents, slotsStream, type RawEvent } from '../src/sim/index.ts'
import { runSinkOnce } from '../src/warehouse/sink/index.ts'
import { fmt, type Section } from './report.ts'
import { BENCH_KEY, engineCaughtUp, startServeProcess } from './serve-process.ts'

const EVENTS = Number(process.env.BENCH_E2E_EVENTS ?? 1_000_000)
const RULES = `segments:
  high_roller:
    when: count(spin, 2h) >= 200 and sum(in_app_purchase.amount, 2h) > 10
    keep: 3m
  spinner:
    when: count(spin, 1h) >= 50
`
/** Issue 16's target for the whole path. */
const TARGET = 300_000

/** The first `EVENTS` of seed 000's workload, as the slots simulator sends them. */
const workload = () => slotsStream({ users: 5_000, spins: 10_000_000 })

async function warehouseRows(url: string): Promise<number> {
  const res = await fetch(`${url}/v1/query`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sql: 'SELECT count(*) AS n FROM events' }),
  })
  if (res.status !== 200) throw new Error(`POST /v1/query answered ${res.status}: ${await res.text()}`)
  return Number(((await res.json()) as { rows: unknown[][] }).rows[0]![0])
}

/** The request bodies of the first `EVENTS` events, 1,000 to a request, as the simulator would send them. */
function prebuiltBodies(): string[] {
  const out: string[] = []
  const source = workload()
  let lines: string[] = []
  for (let i = 0; i < EVENTS; i++) {
    lines.push(JSON.stringify(source.next().value as RawEvent))
    if (lines.length === 1_000 || i === EVENTS - 1) {
      out.push(`[${lines.join(',')}]`)
      lines = []
    }
  }
  return out
}

/** Posts every body with `concurrency` requests in flight (a 429/503 is retried after its Retry-After); the events accepted. */
async function postAll(target: HttpTarget, bodies: readonly string[], concurrency: number): Promise<number> {
  const headers = { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' }
  let next = 0
  let accepted = 0
  const lane = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!
      for (;;) {
        const a = await target.post('/v1/events', headers, body)
        if (a.status === 200) {
          accepted += (JSON.parse(a.text) as { accepted: number }).accepted
          break
        }
        if (a.status !== 429 && a.status !== 503) throw new Error(`POST /v1/events answered ${a.status}: ${a.text.slice(0, 200)}`)
        await new Promise((r) => setTimeout(r, (a.retryAfter ?? 1) * 1000))
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane))
  return accepted
}

interface E2eRun {
  ingestS: number
  engineS: number
  warehouseS: number
}

/** One server, the events sent flat out (`send`), timed from the first request to acknowledged, segmented and counted in the warehouse. */
async function runOnce(dir: string, send: (target: HttpTarget) => Promise<number>, warehouse = true): Promise<E2eRun> {
  // Seed 000's fixed event times (2023): the clock moves with events only, as in earlier runs, and
  // the partition expiration must reach back to them (the default 3 days would hide every row).
  const server = await startServeProcess(dir, RULES, ['--clock-tick-ms', '0', '--retention-days', '3650', ...(warehouse ? [] : ['--no-warehouse'])])
  try {
    const target = new HttpTarget(server.url, 16)
    const t0 = performance.now()
    const accepted = await send(target)
    const ingestS = (performance.now() - t0) / 1000
    target.close()
    if (accepted !== EVENTS) throw new Error(`the server accepted ${accepted} of ${EVENTS} events`)
    if (!(await engineCaughtUp(server.url))) throw new Error('the engine did not catch up within 10 minutes')
    const engineS = (performance.now() - t0) / 1000
    if (!warehouse) return { ingestS, engineS, warehouseS: NaN }
    const deadline = Date.now() + 600_000
    let rows = 0
    while ((rows = await warehouseRows(server.url)) < EVENTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    const warehouseS = (performance.now() - t0) / 1000
    if (rows !== EVENTS) throw new Error(`the warehouse holds ${rows} rows of ${EVENTS} events`)
    return { ingestS, engineS, warehouseS }
  } finally {
    await server.stop()
  }
}

/**
 * The whole pipeline as a user runs it: `tagstream serve` with the Parquet sink on, seed 000's
 * events sent over HTTP flat out, the engine segmenting them, the sink writing them to Parquet.
 * Timed from the first request until SQL over the warehouse counts every event. The request
 * bodies are made before the clock starts (as in the HTTP section), so the 2 cores go to the
 * server; the same run with the slots simulator making them on the fly is shown beside it. The
 * other comparison is the batch path on the same events in this process: append to a log, then
 * one sink run (what `tagstream ingest` + `tagstream warehouse sync` do), no HTTP, no engine.
 */
export async function benchE2e(): Promise<Section> {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-bench-e2e-'))
  try {
    const bodies = prebuiltBodies()
    const main = await runOnce(join(dir, 'serve'), (target) => postAll(target, bodies, 16))
    // What the rest of the path allows on this machine: the same requests with no warehouse at all.
    const bare = await runOnce(join(dir, 'serve-bare'), (target) => postAll(target, bodies, 16), false)
    const simulated = await runOnce(
      join(dir, 'serve-sim'),
      async (target) => (await sendEvents(workload(), { target, keyFor: () => BENCH_KEY, batch: 1_000, concurrency: 16, rate: 0, limit: EVENTS })).accepted,
    )
    const rows = EVENTS

    // The batch path, same events: validate, append to a fresh log, one sink run.
    const events: TrackedEvent[] = []
    const now = Date.now()
    const source = workload()
    for (let i = 0; i < EVENTS; i++) {
      const v = validateEvent(source.next().value as RawEvent, { receivedAt: now })
      if (!v.ok) throw new Error(v.error.reason)
      events.push(v.event)
    }
    const { log, partitions } = await openEventLog(join(dir, 'batch', 'log'), { partitions: 8 })
    const t1 = performance.now()
    // Stored as collectors store them on the embedded log by default (src/log/default-events-format.ts).
    for (let i = 0; i < events.length; i += 10_000) await appendEvents(log, events.slice(i, i + 10_000), partitions, 'binary')
    const sink = await runSinkOnce(log, join(dir, 'batch', 'warehouse'))
    const batchS = (performance.now() - t1) / 1000
    await log.close()
    if (sink.rowsWritten < EVENTS) throw new Error(`the batch sink wrote ${sink.rowsWritten} rows of ${EVENTS}`)

    const e2e = EVENTS / main.warehouseS
    return {
      title: 'End to end: HTTP ingest → segmentation → warehouse',
      description:
        `\`tagstream serve\` with the Parquet sink on (collector, engine thread and sink thread on the same 2 cores), the first ${fmt(EVENTS)} events of seed 000's workload ` +
        `(${fmt(planSlots({ users: 5_000, spins: 10_000_000 }).count)} in all) sent over HTTP flat out, 1,000 events per request, 16 requests in flight, the bodies made before the clock starts. ` +
        `Times run from the first request: until every event is acknowledged (durable), until the engine has applied all of them (/readyz lag 0), ` +
        `and until \`SELECT count(*) FROM events\` over the warehouse counts all ${fmt(rows)} rows (the running sink flushes 100 ms after the last event once 10,000 rows or more are pending, \`BIG_BURST_QUIET_MS\`, and writes a partition's file every 50,000 rows meanwhile, \`LIVE_FLUSH_ROWS\`). ` +
        'Comparisons: the same requests to a server with the warehouse off (what HTTP, the log and the engine allow on these cores, the load generator beside them); the same run with the slots simulator making the bodies on the fly in this process (on the same 2 cores); and the batch path over the same events in one process: append to a fresh log, then one sink run (`tagstream ingest` + `tagstream warehouse sync`), no HTTP, no engine.',
      figures: [
        { name: 'events in the warehouse, from first request to last row', value: e2e, unit: 'events/s', target: `≥ ${fmt(TARGET)} events/s`, met: e2e >= TARGET, notes: `${fmt(main.warehouseS)} s` },
        { name: 'acknowledged durably, sink running', value: EVENTS / main.ingestS, unit: 'events/s', notes: `${fmt(main.ingestS)} s` },
        { name: 'segmented (engine caught up)', value: EVENTS / main.engineS, unit: 'events/s', notes: `${fmt(main.engineS)} s` },
        {
          name: 'comparison: the warehouse off (`--no-warehouse`), segmented',
          value: EVENTS / bare.engineS,
          unit: 'events/s',
          notes: `${fmt(bare.engineS)} s; acknowledged in ${fmt(bare.ingestS)} s`,
        },
        {
          name: 'comparison: bodies made on the fly by the simulator in the same process, to last row',
          value: EVENTS / simulated.warehouseS,
          unit: 'events/s',
          notes: `${fmt(simulated.warehouseS)} s; acknowledged in ${fmt(simulated.ingestS)} s`,
        },
        { name: 'comparison: batch path, log append + one sink run', value: EVENTS / batchS, unit: 'events/s', notes: `${fmt(batchS)} s` },
      ],
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
