import http from 'node:http'
import { connect, type Socket } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { postEvents } from './post-events.ts'
import { fmt, type Section } from './report.ts'
import { BENCH_KEY as KEY, startServeProcess } from './serve-process.ts'

/*
 * Issue 15, item 4: another tenant's ingest rate under a slow-body attack, against its rate alone,
 * on the same server process in the same run. The attack is the issue's: 37 connections of one
 * tenant declaring a body near the 10 MiB limit and sending one byte every 5 s, each reopened as
 * soon as the server refuses or closes it.
 */

const ATTACK_KEY = 'attacker-key'
const BATCH = 1_000
const SECONDS = Number(process.env.BENCH_SLOW_BODY_SECONDS ?? 8)
const CONNECTIONS = 37
const MiB = 1024 * 1024
/**
 * Declared sizes: 28 near the 10 MiB body limit and 9 small ones that fill the gaps, so together they
 * cover the whole 256 MiB in-flight budget (28 × 9 + 8 × 0.5 = 256 MiB) and leave no room for anyone.
 */
const declared = (i: number): number => (i < 28 ? 9 * MiB : MiB / 2)
const TRICKLE_MS = 5_000

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })

function body(i: number): Buffer {
  const now = Date.now()
  const events = new Array<string>(BATCH)
  for (let j = 0; j < BATCH; j++) events[j] = `{"event":"spin","user_id":"u${(i * 7 + j) % 20_000}","ts":${now},"bet":${j % 100}}`
  return Buffer.from(`[${events.join(',')}]`)
}

/** Accepted events of one request; 0 for any other answer than 200 (a 429 is a lost request for the victim). */
const post = (url: string, payload: Buffer) => postEvents(agent, url, payload)

/** The victim: 8 requests of BATCH events in flight for SECONDS; events/s accepted and requests refused. */
async function victimRate(url: string, seconds = SECONDS): Promise<{ rate: number; refused: number }> {
  const bodies = Array.from({ length: 16 }, (_, i) => body(i))
  let accepted = 0
  let refused = 0
  let next = 0
  const stopAt = Date.now() + seconds * 1000
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (Date.now() < stopAt) {
        const r = await post(url, bodies[next++ % bodies.length]!)
        accepted += r.accepted
        if (r.status !== 200) {
          refused++
          await new Promise((res) => setTimeout(res, 50))
        }
      }
    }),
  )
  return { rate: accepted / ((performance.now() - t0) / 1000), refused }
}

/** Keeps CONNECTIONS slow bodies open from the attacking tenant, reopening each as soon as it ends. */
function attack(url: string): { stop(): void; opened(): number } {
  const { hostname, port } = new URL(url)
  const head = (size: number) => `POST /v1/events HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${ATTACK_KEY}\r\ncontent-type: application/json\r\ncontent-length: ${size}\r\n\r\n[`
  let stopped = false
  let opened = 0
  const sockets = new Set<Socket>()
  const open = (i: number) => {
    if (stopped) return
    opened++
    const s = connect({ host: hostname, port: Number(port) })
    sockets.add(s)
    s.on('error', () => {})
    s.on('data', () => s.destroy())
    s.on('close', () => {
      sockets.delete(s)
      setTimeout(() => open(i), 100)
    })
    s.write(head(declared(i)))
  }
  for (let i = 0; i < CONNECTIONS; i++) open(i)
  const trickle = setInterval(() => {
    for (const s of sockets) s.write(' ')
  }, TRICKLE_MS)
  return {
    opened: () => opened,
    stop() {
      stopped = true
      clearInterval(trickle)
      for (const s of sockets) s.destroy()
    },
  }
}

export async function benchSlowBody(): Promise<Section> {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-bench-slow-body-'))
  const server = await startServeProcess(dir, 'segments: {}\n', ['--no-warehouse'], { TAGSTREAM_API_KEYS: `${KEY}:default:write+read+admin,${ATTACK_KEY}:attacker:write` })
  try {
    // Warm-up (JIT, log files), then alone / under attack / alone again: the unattacked rate is the
    // mean of the two, so drift over the run (a shared machine, a growing log) does not favour either.
    await victimRate(server.url, 3)
    const before = await victimRate(server.url)
    const attacker = attack(server.url)
    // The attack's connections are admitted or refused within a moment; measure once they are in place.
    await new Promise((r) => setTimeout(r, 1_000))
    const attacked = await victimRate(server.url)
    attacker.stop()
    await new Promise((r) => setTimeout(r, 1_000))
    const after = await victimRate(server.url)
    const alone = { rate: (before.rate + after.rate) / 2, refused: before.refused + after.refused }
    const ratio = attacked.rate / alone.rate
    return {
      title: "Slow-body attack: another tenant's ingest (issue 15, item 4)",
      description:
        `\`tagstream serve --no-warehouse\` in its own process with default limits. Tenant "default" ingests flat out (8 requests of ${BATCH} events in flight) ` +
        `for ${SECONDS} s alone (after 3 s of warm-up), then for ${SECONDS} s while tenant "attacker" keeps ${CONNECTIONS} connections declaring Content-Lengths that cover the whole 256 MiB in-flight budget (28 × 9 MiB, 9 × 0.5 MiB) ` +
        `and sending one byte every ${TRICKLE_MS / 1000} s, reopening each as soon as it is refused or closed (${attacker.opened()} attack connections in all), ` +
        `then ${SECONDS} s alone again. Same server, same run; "alone" is the mean of the two unattacked periods ` +
        `(${fmt(before.rate)} and ${fmt(after.rate)} events/s). Victim requests refused: ${alone.refused} alone, ${attacked.refused} under attack.`,
      figures: [
        { name: 'victim ingest alone (mean of before and after)', value: alone.rate, unit: 'events/s' },
        { name: 'victim ingest under the slow-body attack', value: attacked.rate, unit: 'events/s' },
        { name: 'under attack / alone', value: ratio * 100, unit: '%', target: '≥ 90 %', met: ratio >= 0.9 },
      ],
    }
  } finally {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
