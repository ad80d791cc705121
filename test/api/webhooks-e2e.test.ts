/**
 * Webhooks end to end on the real server: users enter a segment through POST /v1/events, a local
 * receiver fails the first two attempts of every batch with 503, and still every change arrives
 * exactly once (deduped by Idempotency-Key); a restart on the same data dir re-sends nothing.
 *
 * The dispatcher is started here with startWebhooks on the server's context (and the server's own
 * config has no webhooks), so the test holds whether or not server.ts also starts them.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WebhookConfig } from '../../src/api/config.ts'
import { startWebhooks, webhookGroup, type WebhookRunner } from '../../src/api/webhooks/index.ts'
import { auth, startTestServer, type TestServer } from './harness.ts'

interface Delivery {
  key: string
  stream: string
  status: number
  records: Array<Record<string, unknown>>
}

let receiver: Server
let url = ''
const deliveries: Delivery[] = []
const attempts = new Map<string, number>()

async function receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body = ''
  for await (const chunk of req) body += String(chunk)
  const key = String(req.headers['idempotency-key'])
  const n = (attempts.get(key) ?? 0) + 1
  attempts.set(key, n)
  const status = n <= 2 ? 503 : 200
  deliveries.push({ key, stream: String(req.headers['x-tagstream-stream']), status, records: (JSON.parse(body) as { records: Delivery['records'] }).records })
  res.writeHead(status).end()
}

/** What a receiver that dedupes by Idempotency-Key has applied. */
function applied(): Delivery['records'] {
  const seen = new Set<string>()
  const out: Delivery['records'] = []
  for (const d of deliveries) {
    if (d.status !== 200 || seen.has(d.key)) continue
    seen.add(d.key)
    out.push(...d.records)
  }
  return out
}

async function until(what: string, done: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; ${deliveries.length} requests so far`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'tagstream-webhooks-e2e-'))
let s: TestServer | null = null
let hooks: WebhookRunner | null = null

beforeAll(async () => {
  receiver = createServer((req, res) => void receive(req, res))
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/tagstream`
})
afterAll(async () => {
  await hooks?.stop()
  await s?.close()
  receiver.closeAllConnections()
  await new Promise<void>((r) => receiver.close(() => r()))
  rmSync(dataDir, { recursive: true, force: true })
})

async function start(): Promise<void> {
  s = await startTestServer({ dataDir, webhooks: [] })
  const hook: WebhookConfig = { url, streams: ['segment-changes', 'notifications'] }
  hooks = startWebhooks({ ...s.ctx, config: { ...s.ctx.config, webhooks: [hook] } })
  // Wait until every dispatcher has fixed its start (a new group starts at the current end).
  const deadline = Date.now() + 3000
  for (const topic of ['segment-changes', 'notifications']) {
    for (let p = 0; p < s.ctx.partitions; p++) {
      while ((await s.ctx.log.committed(webhookGroup(url), topic, p)) === null) {
        if (Date.now() > deadline) throw new Error('webhook dispatchers did not start')
        await new Promise((r) => setTimeout(r, 5))
      }
    }
  }
}

async function stop(): Promise<void> {
  await hooks!.stop()
  hooks = null
  await s!.close()
  s = null
}

async function spinners(users: string[], key: string): Promise<void> {
  const ts = Date.now()
  const events = users.flatMap((user) => [0, 1, 2].map((i) => ({ event: 'spin', user_id: user, ts: ts + i })))
  const res = await fetch(`${s!.url}/v1/events`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: JSON.stringify(events) })
  expect(res.status).toBe(200)
}

describe('webhooks, end to end', () => {
  it('delivers every change once despite 503s, and resumes after a restart without re-sending', async () => {
    await start()
    const users = Array.from({ length: 12 }, (_, i) => `w${i}`)
    await spinners(users.slice(0, 8), s!.keys.write)
    await spinners(users.slice(8), s!.keys.acme)
    const cart = await fetch(`${s!.url}/v1/events`, {
      method: 'POST',
      headers: { ...auth(s!.keys.write), 'content-type': 'application/json' },
      body: JSON.stringify([{ event: 'add_to_cart', user_id: 'w0', ts: Date.now(), cart_amount: 80 }]),
    })
    expect(cart.status).toBe(200)

    await until('12 changes and 1 notification', () => applied().length >= 13)
    const changes = applied().filter((r) => 'segment' in r)
    expect(changes.map((r) => `${r.tenant}/${r.user_id}`).sort()).toEqual([...users.slice(0, 8).map((u) => `default/${u}`), ...users.slice(8).map((u) => `acme/${u}`)].sort())
    expect(changes.every((r) => r.segment === 'spinner' && r.change === 'entered')).toBe(true)
    expect(applied().filter((r) => 'trigger' in r)).toEqual([expect.objectContaining({ trigger: 'cart_push', user_id: 'w0', properties: { cart_amount: 80 } })])

    // Every batch: 503, 503, 200 under one key with one body; the key names its offsets.
    const byKey = new Map<string, Delivery[]>()
    for (const d of deliveries) byKey.set(d.key, [...(byKey.get(d.key) ?? []), d])
    for (const [key, tries] of byKey) {
      expect(tries.map((t) => t.status)).toEqual([503, 503, 200])
      expect(new Set(tries.map((t) => JSON.stringify(t.records))).size).toBe(1)
      const recs = tries[0]!.records
      expect(key).toBe(`${tries[0]!.stream}:${String(recs[0]!.partition)}:${String(recs[0]!.offset)}-${String(recs.at(-1)!.offset)}`)
    }
    // The receiver logs a request before its answer reaches the dispatcher: wait for the count to settle.
    const expected = { retried: byKey.size * 2, delivered: byKey.size }
    let counts: Record<string, number> = {}
    for (const deadline = Date.now() + 2000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 10))) {
      const metrics = await s!.ctx.metrics.webhookDeliveries.get()
      counts = Object.fromEntries(metrics.values.map((v) => [String(v.labels.outcome), v.value]))
      if (JSON.stringify(counts) === JSON.stringify(expected)) break
    }
    expect(counts).toEqual(expected)

    // Restart on the same data dir: nothing acknowledged is sent again.
    await stop()
    const before = deliveries.length
    await start()
    await new Promise((r) => setTimeout(r, 600))
    expect(deliveries.length).toBe(before)

    // New changes after the restart are delivered, once.
    await spinners(['after-restart'], s!.keys.write)
    await until('the change after the restart', () => applied().length >= 14)
    await new Promise((r) => setTimeout(r, 200))
    expect(
      applied()
        .slice(13)
        .map((r) => r.user_id),
    ).toEqual(['after-restart'])
    const keys = deliveries.filter((d) => d.status === 200).map((d) => d.key)
    expect(new Set(keys).size).toBe(keys.length)
  })
})
