import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { planSlots, slotsEventAt, type SlotsEvent } from '../src/sim/index.ts'
import { postEvents } from './post-events.ts'
import type { Section } from './report.ts'
import { cpuBetween, engineCaughtUp, startServeProcess, threadCpu } from './serve-process.ts'

/*
 * Issue 18's target: POST /v1/batch with Segment-shaped messages of seed 000's mix (spins and
 * purchases, as @segment/analytics-node sends them: messageId, ISO timestamp, properties, context,
 * integrations, _metadata, a batch sentAt) at ≥ 300,000 events/s flat out. The comparison, in the
 * same run against a fresh server: the same events in our own flat format with client event ids to
 * POST /v1/events, so the cost of reading the spec is the difference.
 */

const RULES = `segments:
  spinner:
    when: count(spin, 2h) >= 200 and sum(in_app_purchase.amount, 2h) > 10
`
const BATCH = 1_000
const BODIES = 64
const SECONDS = Number(process.env.BENCH_SEGMENT_SECONDS ?? 10)
/** Width of the round number written into every messageId before each send, so no id repeats. */
const ROUND_DIGITS = 8

interface Template {
  bytes: Buffer
  /** Where each message's round number starts. */
  rounds: number[]
}

const CONTEXT = { library: { name: '@segment/analytics-node', version: '3.1.0' } }
const METADATA = { nodeVersion: 'v20.20.2', jsRuntime: 'node' }

function segmentMessage(e: SlotsEvent, id: string): string {
  const properties = e.event === 'spin' ? { bet: e.bet, machine: e.machine } : { amount: e.amount, item: e.item }
  const m = { timestamp: new Date(e.ts).toISOString(), integrations: {}, event: e.event, type: 'track', properties, context: CONTEXT, userId: e.user_id, messageId: id, _metadata: METADATA }
  return JSON.stringify(m)
}

function flatEvent(e: SlotsEvent, id: string): string {
  return JSON.stringify({ ...e, event_id: id })
}

/** BODIES bodies of BATCH events each; every event id holds a run of zeros to overwrite with the round. */
export function templates(kind: 'segment' | 'flat', events: (i: number) => SlotsEvent): Template[] {
  const marker = '0'.repeat(ROUND_DIGITS)
  const out: Template[] = []
  for (let b = 0; b < BODIES; b++) {
    const parts: string[] = []
    for (let j = 0; j < BATCH; j++) {
      const id = `node-next-${marker}-${b}-${j}`
      const e = events(b * BATCH + j)
      parts.push(kind === 'segment' ? segmentMessage(e, id) : flatEvent(e, id))
    }
    const text = kind === 'segment' ? `{"batch":[${parts.join(',')}],"writeKey":"bench","sentAt":"${new Date().toISOString()}"}` : `[${parts.join(',')}]`
    const bytes = Buffer.from(text)
    const rounds: number[] = []
    for (let at = bytes.indexOf(`node-next-${marker}`); at !== -1; at = bytes.indexOf(`node-next-${marker}`, at + 1)) rounds.push(at + 10)
    out.push({ bytes, rounds })
  }
  return out
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })

/** Events/s durably accepted with 16 requests in flight for SECONDS; every send carries fresh ids. */
export async function flatOut(url: string, bodies: Template[], path: string): Promise<{ rate: number; duplicates: number }> {
  let accepted = 0
  let sends = 0
  const stopAt = Date.now() + SECONDS * 1000
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: 16 }, async (_, lane) => {
      // Each lane owns its bodies (lane, lane + 16, …): a body is never rewritten while in flight.
      for (let k = 0; Date.now() < stopAt; k++) {
        const t = bodies[lane + 16 * (k % (BODIES / 16))]!
        const round = String(++sends).padStart(ROUND_DIGITS, '0')
        for (const at of t.rounds) t.bytes.write(round, at, 'latin1')
        const r = await postEvents(agent, url, t.bytes, undefined, path, path === '/v1/batch')
        if (r.status !== 200) throw new Error(`${path} answered ${r.status}: ${r.text.slice(0, 300)}`)
        accepted += r.accepted
      }
    }),
  )
  return { rate: accepted / ((performance.now() - t0) / 1000), duplicates: sends * BATCH - accepted }
}

/** The flat-out rate, and the server's CPU per accepted event over the same seconds (µs): all threads, the main thread. */
async function measure(bodies: Template[], path: string): Promise<{ rate: number; duplicates: number; cpu: { all: number; main: number } }> {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-bench-segment-'))
  const server = await startServeProcess(dir, RULES, ['--no-warehouse'])
  try {
    const pid = server.proc.pid!
    const before = threadCpu(pid)
    const r = await flatOut(server.url, bodies, path)
    const used = cpuBetween(pid, before, threadCpu(pid))
    const events = r.rate * SECONDS
    const cpu = { all: (used.all / events) * 1e6, main: (used.main / events) * 1e6 }
    await engineCaughtUp(server.url, 120_000)
    return { ...r, cpu }
  } finally {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

export async function benchSegment(): Promise<Section> {
  const plan = planSlots({ users: 20_000, spins: 100_000, hours: 3, end: Date.now() - 60_000 })
  const at = (i: number) => slotsEventAt(plan, i % plan.count)
  const segment = templates('segment', at)
  const flat = templates('flat', at)
  const bytesPer = (t: Template[]) => t.reduce((a, x) => a + x.bytes.length, 0) / (t.length * BATCH)
  const spec = await measure(segment, '/v1/batch')
  const ours = await measure(flat, '/v1/events')
  return {
    title: 'Segment batches (POST /v1/batch)',
    description:
      `\`tagstream serve --no-warehouse\` in its own process on embedded storage, the load generator in this process on the same 2-core machine, 16 requests in flight for ${SECONDS} s. ` +
      `Each request is one \`{"batch": [...]}\` of ${BATCH} track calls of seed 000's mix (spins and in-app purchases of ${plan.options.users} users), shaped as @segment/analytics-node sends them ` +
      `(messageId, ISO timestamp, properties, context.library, integrations, _metadata, a batch sentAt; ${Math.round(bytesPer(segment))} bytes per message), HTTP Basic with the write key; ` +
      `every send has fresh messageIds, so each is de-duplicated and none is a duplicate (${spec.duplicates} were). The comparison sends the same events in our own flat format ` +
      `with client event ids (${Math.round(bytesPer(flat))} bytes per event) to POST /v1/events on a fresh server in the same run. ` +
      `Server CPU: the serve process's CPU time (Linux /proc, all threads: HTTP and reading in the main thread, the engine thread, V8's garbage-collector helpers, the log's writer) ` +
      `over the same seconds, per accepted event; the main thread's share is the collector's own work. Both paths read bodies byte by byte (src/ingest/fast-path.ts, src/ingest/segment/fast-path.ts).`,
    figures: [
      { name: 'Segment batches accepted durably, flat out', value: spec.rate, unit: 'events/s', target: '≥ 300,000 events/s', met: spec.rate >= 300_000 },
      { name: 'comparison: the same events in our format to POST /v1/events', value: ours.rate, unit: 'events/s' },
      { name: 'server CPU per Segment event, all threads', value: spec.cpu.all, unit: 'µs' },
      { name: 'server CPU per Segment event, main thread (HTTP, reading, dedupe, log append)', value: spec.cpu.main, unit: 'µs' },
      { name: 'comparison: server CPU per event in our format, all threads', value: ours.cpu.all, unit: 'µs' },
      { name: 'comparison: server CPU per event in our format, main thread', value: ours.cpu.main, unit: 'µs' },
    ],
  }
}
