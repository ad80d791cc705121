import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build, type Histogram } from 'hdr-histogram-js'
import { postEvents } from './post-events.ts'
import { fmt, type Section } from './report.ts'
import { BENCH_KEY as KEY, engineCaughtUp, startServeProcess } from './serve-process.ts'

const RULES = `segments:
  probe_seen:
    when: count(probe, 1h) >= 1
  spinner:
    when: count(spin, 1h) >= 50
`
const BATCH = 1_000
const MAX_SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 10)
const RATE = 100_000

function body(i: number, now: number, probe: string | null): Buffer {
  const events = new Array<string>(BATCH)
  for (let j = 0; j < BATCH; j++) events[j] = `{"event":"spin","user_id":"u${(i * 7 + j) % 20_000}","ts":${now},"bet":${j % 100}}`
  if (probe) events[0] = `{"event":"probe","user_id":"${probe}","ts":${now}}`
  return Buffer.from(`[${events.join(',')}]`)
}

// node:http with keep-alive rather than fetch: the load generator shares the two cores with the
// server, and fetch costs several times more CPU per request.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })

async function post(url: string, payload: Buffer): Promise<number> {
  const r = await postEvents(agent, url, payload)
  if (r.status !== 200) throw new Error(`ingest answered ${r.status}: ${r.text}`)
  return r.accepted
}

/** Latencies in microseconds, 3 significant digits: percentiles without keeping or sorting every sample. */
const histogram = (): Histogram => build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 })
const ms = (h: Histogram, p: number): number => (h.totalCount === 0 ? NaN : h.getValueAtPercentile(p) / 1000)

/** Events/s durably accepted with 16 requests of BATCH events in flight for MAX_SECONDS. */
async function flatOutRate(url: string): Promise<number> {
  const bodies = Array.from({ length: 64 }, (_, i) => body(i, Date.now(), null))
  let accepted = 0
  let next = 0
  const stopAt = Date.now() + MAX_SECONDS * 1000
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (Date.now() < stopAt) {
        // Awaited first, then added: `accepted += await …` would read `accepted` before the await
        // and lose the other loops' additions.
        const got = await post(url, bodies[next++ % bodies.length]!)
        accepted += got
      }
    }),
  )
  return accepted / ((performance.now() - t0) / 1000)
}

/** The same flat-out load on a server whose collector fast path is off (every event JSON.parse'd and validated). */
async function validatedPathRate(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-bench-http-validated-'))
  const server = await startServeProcess(dir, RULES, ['--no-warehouse'], { TAGSTREAM_COLLECTOR_FAST_PATH: '0' })
  try {
    return await flatOutRate(server.url)
  } finally {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Durable ingest through POST /v1/events, request latency at a fixed rate, and ingest-to-segment-change latency. */
export async function benchHttp(): Promise<Section> {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-bench-http-'))
  const server = await startServeProcess(dir, RULES, ['--no-warehouse'])
  try {
    const flatOut = await flatOutRate(server.url)

    // Let the engine catch up with the flat-out backlog before measuring latency at a steady rate.
    await engineCaughtUp(server.url, 120_000)

    // Fixed rate: 100 requests of 1,000 events per second, each with one probe user new to the
    // probe segment; the segment-changes stream says when the engine tagged it.
    const sent = new Map<string, number>()
    const changeLatency = histogram()
    const abort = new AbortController()
    const stream = await fetch(`${server.url}/v1/segment-changes?segment=probe_seen`, { headers: { authorization: `Bearer ${KEY}`, accept: 'text/event-stream' }, signal: abort.signal })
    const reading = (async () => {
      const decoder = new TextDecoder()
      let buf = ''
      try {
        for await (const chunk of stream.body as unknown as AsyncIterable<Uint8Array>) {
          buf += decoder.decode(chunk, { stream: true })
          let end: number
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const frame = buf.slice(0, end)
            buf = buf.slice(end + 2)
            const data = frame.split('\n').find((l) => l.startsWith('data:'))
            if (!data) continue
            const c = JSON.parse(data.slice(5)) as { user_id: string; change: string }
            const at = sent.get(c.user_id)
            if (at !== undefined && c.change === 'entered') changeLatency.recordValue(Math.max(1, Math.round((performance.now() - at) * 1000)))
          }
        }
      } catch {
        // aborted at the end
      }
    })()
    const latencies = histogram()
    const requests = RATE / BATCH
    const seconds = Math.min(MAX_SECONDS, 10)
    const start = performance.now()
    const inflight: Promise<void>[] = []
    for (let i = 0; i < requests * seconds; i++) {
      const due = start + (i * 1000) / requests
      const wait = due - performance.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      const probe = `probe-${i}`
      const payload = body(i, Date.now(), probe)
      const t = performance.now()
      sent.set(probe, t)
      inflight.push(post(server.url, payload).then(() => latencies.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)))))
    }
    await Promise.all(inflight)
    await new Promise((r) => setTimeout(r, 1_000))
    abort.abort()
    await reading
    const p99 = ms(latencies, 99)
    const c99 = ms(changeLatency, 99)
    const seen = changeLatency.totalCount
    await server.stop()
    const validated = await validatedPathRate()
    return {
      title: 'HTTP ingest (POST /v1/events)',
      description:
        `\`tagstream serve --no-warehouse\` in its own process on embedded storage, the load generator in this process on the same 2-core machine ` +
        `(the Parquet sink would take a third busy thread on two cores; it is measured in its own section). ` +
        `Batches of ${BATCH} events (JSON arrays, about 75 bytes per event); every request is answered only after its events are durable in the log, ` +
        `while the engine thread segments them. Flat out: 16 requests in flight for ${MAX_SECONDS} s. Fixed rate: ${fmt(RATE)} events/s for ${seconds} s; ` +
        `each request carries one event of a user new to a segment, and the segment-changes SSE stream times its entry (${seen} of ${requests * seconds} probes seen). ` +
        'Latencies are recorded in HDR histograms (microseconds, 3 significant digits). ' +
        'The comparison runs the same flat-out load against a fresh server with the fast path off, so every event takes JSON.parse and validateEvent (the path before issue #4).',
      figures: [
        { name: 'accepted durably, flat out', value: flatOut, unit: 'events/s', target: '≥ 500,000 events/s', met: flatOut >= 500_000 },
        { name: `request latency p50 at ${fmt(RATE)} events/s`, value: ms(latencies, 50), unit: 'ms' },
        { name: `request latency p99 at ${fmt(RATE)} events/s`, value: p99, unit: 'ms', target: '≤ 50 ms', met: p99 <= 50 },
        { name: 'ingest-to-segment-change p50', value: ms(changeLatency, 50), unit: 'ms' },
        { name: 'ingest-to-segment-change p90', value: ms(changeLatency, 90), unit: 'ms' },
        { name: 'ingest-to-segment-change p99', value: c99, unit: 'ms', target: '≤ 100 ms', met: c99 <= 100 && seen >= requests * seconds * 0.99 },
        { name: 'ingest-to-segment-change max', value: changeLatency.totalCount === 0 ? NaN : changeLatency.maxValue / 1000, unit: 'ms' },
        { name: 'comparison: flat out with the collector fast path off (TAGSTREAM_COLLECTOR_FAST_PATH=0)', value: validated, unit: 'events/s' },
      ],
    }
  } finally {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
