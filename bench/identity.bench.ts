import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pacedGets } from './paced-gets.ts'
import { postEvents } from './post-events.ts'
import { fmt, type Section } from './report.ts'
import { BENCH_KEY, cpuBetween, engineCaughtUp, startServeProcess, threadCpu } from './serve-process.ts'

/*
 * Issue 18's identity targets: links ≥ 20,000/s, and a profile looked up by an alias id at p99 ≤ 5 ms
 * at 10,000 lookups/s. A serve process on embedded storage (4 partitions: most links cross two).
 * Links: LINKS anonymous devices with one event each, then one identify per device naming it for
 * its own user; the rate is links made (the engine's own counter) over the time from the first
 * identify sent to the last link made. The comparison, same run and server: as many events of the
 * same users that name no device (no link), sent and processed the same way.
 */

const LINKS = Number(process.env.BENCH_IDENTITY_LINKS ?? 200_000)
const BATCH = 1_000
const LOOKUP_RATE = Number(process.env.BENCH_IDENTITY_LOOKUP_RATE ?? 10_000)
const LOOKUP_SECONDS = Number(process.env.BENCH_IDENTITY_LOOKUP_SECONDS ?? 10)
const RULES = `segments:
  regular:
    when: count(app_open) >= 2
`
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })

function bodies(make: (i: number) => object): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < LINKS; i += BATCH) out.push(Buffer.from(JSON.stringify(Array.from({ length: Math.min(BATCH, LINKS - i) }, (_, j) => make(i + j)))))
  return out
}

async function send(url: string, list: Buffer[]): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < list.length) {
        const r = await postEvents(agent, url, list[next++]!)
        if (r.status !== 200) throw new Error(`POST /v1/events answered ${r.status}: ${r.text.slice(0, 300)}`)
      }
    }),
  )
}

async function linked(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const m = /tagstream_identity_links_total\{result="linked"\} (\d+)/.exec(text)
  return m ? Number(m[1]) : 0
}

/** Seconds from now until `done` holds, polled every 20 ms. */
async function timeUntil(done: () => Promise<boolean>): Promise<number> {
  const t0 = performance.now()
  while (!(await done())) await new Promise((r) => setTimeout(r, 20))
  return (performance.now() - t0) / 1000
}

/** GET /v1/profiles/:id paced at LOOKUP_RATE for LOOKUP_SECONDS (./paced-gets.ts); latencies in ms, sorted. */
function lookups(url: string, id: (i: number) => string, expectUser: (i: number) => string, seconds = LOOKUP_SECONDS): Promise<number[]> {
  const at = (k: number) => (k * 7919) % LINKS
  return pacedGets({
    url,
    path: (k) => `/v1/profiles/${id(at(k))}`,
    headers: { authorization: `Bearer ${BENCH_KEY}` },
    rate: LOOKUP_RATE,
    seconds,
    check: (k, status, body) => status === 200 && body.includes(`"user_id":"${expectUser(at(k))}"`),
  })
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!

export async function benchIdentity(): Promise<Section> {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-bench-identity-'))
  const server = await startServeProcess(dir, RULES, ['--no-warehouse'])
  const ts = Date.now() - 3_600_000
  try {
    await send(
      server.url,
      bodies((i) => ({ event: 'app_open', anonymous_id: `dev-${i}`, ts: ts + (i % 1000) })),
    )
    await engineCaughtUp(server.url)
    // The comparison first: the same users' events, naming no device.
    const plain = bodies((i) => ({ event: 'login', user_id: `user-${i}`, ts: ts + 1000 + (i % 1000) }))
    const t0 = performance.now()
    await send(server.url, plain)
    await engineCaughtUp(server.url)
    const plainSeconds = (performance.now() - t0) / 1000
    const identify = bodies((i) => ({ event: 'identify', user_id: `user-${i}`, anonymous_id: `dev-${i}`, ts: ts + 2000 + (i % 1000) }))
    const pid = server.proc.pid!
    const c1 = threadCpu(pid)
    const t1 = performance.now()
    await send(server.url, identify)
    await timeUntil(async () => (await linked(server.url)) >= LINKS)
    const linkSeconds = (performance.now() - t1) / 1000
    const linkCpu = cpuBetween(pid, c1, threadCpu(pid))
    await engineCaughtUp(server.url)
    // Steady state, not the first seconds after the links: the checkpoint of every changed person
    // and redirect is written in the background, and the lookup path is compiled, before timing.
    await new Promise((r) => setTimeout(r, 3_000))
    await lookups(
      server.url,
      (i) => `dev-${i}`,
      (i) => `user-${i}`,
      2,
    )
    const c2 = threadCpu(pid)
    const client = process.cpuUsage()
    const byAlias = await lookups(
      server.url,
      (i) => `dev-${i}`,
      (i) => `user-${i}`,
    )
    const lookupCpu = cpuBetween(pid, c2, threadCpu(pid))
    const clientCpu = process.cpuUsage(client)
    const lookupCount = LOOKUP_RATE * LOOKUP_SECONDS
    const byPerson = await lookups(
      server.url,
      (i) => `user-${i}`,
      (i) => `user-${i}`,
    )
    const linkRate = LINKS / linkSeconds
    const p99 = pct(byAlias, 99)
    return {
      title: 'Identity resolution (identify links, lookups by an alias id)',
      description:
        `\`tagstream serve --no-warehouse\` in its own process on embedded storage (4 partitions), the load generator in this process on the same 2-core machine. ` +
        `${fmt(LINKS)} anonymous devices with one event each; then one identify per device for its own user id (POST /v1/events, ${BATCH} events a request, 8 in flight). ` +
        `Links/s: links made (\`tagstream_identity_links_total{result="linked"}\`) over the time from the first identify sent to the last link made: each link is the identify, a claim to the device's partition, a grant back with the device's state, and the merge. ` +
        `The comparison: as many events of the same users naming no device, sent the same way, until processed. ` +
        `Lookups: GET /v1/profiles/:id paced at ${fmt(LOOKUP_RATE)}/s for ${LOOKUP_SECONDS} s over 16 keep-alive connections written and read on raw sockets (bench/paced-gets.ts: a few µs of the shared cores a request, where node:http took about 60), by a device id (after 3 s of quiet and 2 s of untimed lookups: steady state) (answered with its person's profile: a redirect read, then the person), and the same by the person's own id. ` +
        `CPU: each thread's CPU time from Linux /proc over the links (first identify to last link) and over the timed alias lookups, per link or lookup; the engine thread is the busiest thread but the main one.`,
      figures: [
        { name: 'identity links made', value: linkRate, unit: 'links/s', target: '≥ 20,000 links/s', met: linkRate >= 20_000 },
        { name: 'comparison: the same users’ events naming no device', value: LINKS / plainSeconds, unit: 'events/s' },
        { name: `profile lookup by an alias id p99 at ${fmt(LOOKUP_RATE)}/s`, value: p99, unit: 'ms', target: '≤ 5 ms', met: p99 <= 5 },
        { name: 'profile lookup by an alias id p50', value: pct(byAlias, 50), unit: 'ms' },
        { name: 'comparison: lookup by the person’s own id p99', value: pct(byPerson, 99), unit: 'ms' },
        { name: 'server CPU per link: the engine thread (the busiest thread but the main one)', value: (linkCpu.busiest / LINKS) * 1e6, unit: 'µs' },
        { name: 'server CPU per link: main thread', value: (linkCpu.main / LINKS) * 1e6, unit: 'µs' },
        { name: 'server CPU per link: all threads', value: (linkCpu.all / LINKS) * 1e6, unit: 'µs' },
        { name: 'CPU per alias lookup: server main thread', value: (lookupCpu.main / lookupCount) * 1e6, unit: 'µs' },
        { name: 'CPU per alias lookup: server, all threads', value: (lookupCpu.all / lookupCount) * 1e6, unit: 'µs' },
        { name: 'CPU per alias lookup: the load generator', value: (clientCpu.user + clientCpu.system) / lookupCount, unit: 'µs' },
      ],
    }
  } finally {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
