/**
 * Webhook dispatchers on a real embedded log, POSTing to a real node:http receiver: batching,
 * retries with a stable Idempotency-Key, drops, filters, committed offsets across restarts.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Auth } from '../../src/api/auth.ts'
import { defaultConfig, type WebhookConfig } from '../../src/api/config.ts'
import { Deduper } from '../../src/ingest/dedupe.ts'
import type { ApiContext } from '../../src/api/context.ts'
import { ApiMetrics } from '../../src/api/metrics.ts'
import { startWebhooks, webhookGroup, type WebhookOptions, type WebhookRunner } from '../../src/api/webhooks/index.ts'
import type { EngineClient } from '../../src/engine/thread/protocol.ts'
import type { EventLog } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import type { PlayerStore } from '../../src/players/player-store.ts'
import type { StateStore } from '../../src/state/state-store.ts'
import { Signal } from '../../src/api/signal.ts'

const P = 2

interface Received {
  key: string
  stream: string
  contentType: string
  records: Array<Record<string, unknown> & { partition: number; offset: number }>
  status: number
}

/** A webhook receiver: answers each request with `respond` and keeps what it saw. */
class Receiver {
  readonly requests: Received[] = []
  respond: (attempt: number, req: Received) => number | 'hang' = () => 200
  private server!: Server
  private readonly attempts = new Map<string, number>()
  private readonly hanging = new Set<ServerResponse>()
  url = ''

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res))
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook?token=s3cret`
  }

  /** Records delivered with a 2xx, once per Idempotency-Key: what a deduping receiver keeps. */
  get accepted(): Received['records'] {
    const byKey = new Map<string, Received['records']>()
    for (const r of this.requests) if (r.status < 300 && !byKey.has(r.key)) byKey.set(r.key, r.records)
    return [...byKey.values()].flat()
  }

  async until(what: string, done: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; ${this.requests.length} requests so far`)
      await new Promise((r) => setTimeout(r, 10))
    }
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy()
    this.server.closeAllConnections()
    await new Promise<void>((r) => this.server.close(() => r()))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = ''
    for await (const chunk of req) body += String(chunk)
    const key = String(req.headers['idempotency-key'])
    const attempt = (this.attempts.get(key) ?? 0) + 1
    this.attempts.set(key, attempt)
    const r: Received = {
      key,
      stream: String(req.headers['x-tagstream-stream']),
      contentType: String(req.headers['content-type']),
      records: (JSON.parse(body) as { records: Received['records'] }).records,
      status: 0,
    }
    const status = this.respond(attempt, r)
    if (status === 'hang') {
      r.status = -1
      this.requests.push(r)
      this.hanging.add(res)
      return
    }
    r.status = status
    this.requests.push(r)
    res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope')
  }
}

describe('webhook dispatchers', () => {
  let dir: string
  let log: EventLog
  let receiver: Receiver
  let runner: WebhookRunner | null = null
  let metrics: ApiMetrics
  let seq = 0

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tagstream-webhooks-'))
    log = (await openEventLog(join(dir, 'log'), { partitions: P, retentionCheckMs: 0 })).log
  })
  afterAll(async () => {
    await log.close()
    rmSync(dir, { recursive: true, force: true })
  })
  beforeEach(async () => {
    receiver = new Receiver()
    await receiver.start()
  })
  afterEach(async () => {
    await runner?.stop()
    runner = null
    await receiver.close()
  })

  function start(hooks: WebhookConfig[], options: WebhookOptions = {}): WebhookRunner {
    metrics = new ApiMetrics()
    const ctx: ApiContext = {
      config: defaultConfig({ dataDir: dir, partitions: P, webhooks: hooks }),
      log,
      partitions: P,
      engine: {} as EngineClient,
      // Streams and webhooks use neither the engine, the players nor the state store.
      players: {} as PlayerStore,
      state: {} as StateStore,
      auth: new Auth([]),
      metrics,
      logger: pino({ level: 'silent' }),
      inflight: { bytes: 0 },
      deduper: new Deduper({ horizonMs: 600_000, maxEntries: 1000 }),
      warehouseFiles: new Signal(),
    }
    runner = startWebhooks(ctx, { backoff: { baseMs: 20, maxMs: 200 }, pollWaitMs: 100, ...options })
    return runner
  }

  async function append(topic: 'segment-changes' | 'notifications', partition: number, n: number, fields: Record<string, unknown> = {}): Promise<string[]> {
    const ids: string[] = []
    const records = Array.from({ length: n }, () => {
      const user = `u${seq++}`
      ids.push(user)
      const value =
        topic === 'segment-changes'
          ? { segment: 'spinner', tenant: seq % 3 === 0 ? 'acme' : 'default', user_id: user, change: 'entered', at: 1, values: {}, version: 1, ...fields }
          : { trigger: 'cart_push', emit: 'notification', tenant: 'default', user_id: user, event: 'add_to_cart', event_id: user, at: 1, properties: {}, values: {}, ...fields }
      return { key: `${value.tenant}:${user}`, value: Buffer.from(JSON.stringify(value)) }
    })
    await log.append(topic, partition, records)
    return ids
  }

  /** Outcome counts, once they equal `expected` (a receiver logs a request before its response reaches the dispatcher). */
  async function counts(expected: Record<string, number>): Promise<Record<string, number>> {
    const deadline = Date.now() + 2000
    for (;;) {
      const m = await metrics.webhookDeliveries.get()
      const got: Record<string, number> = Object.fromEntries(m.values.map((v) => [String(v.labels.outcome), v.value]))
      if (JSON.stringify(got) === JSON.stringify(expected) || Date.now() > deadline) return got
      await new Promise((r) => setTimeout(r, 10))
    }
  }

  /** Waits until every dispatcher has fixed its starting offsets (committed for a new group). */
  async function started(url: string, topics: string[]): Promise<void> {
    const deadline = Date.now() + 3000
    for (const t of topics) {
      for (let p = 0; p < P; p++) {
        while ((await log.committed(webhookGroup(url), t, p)) === null) {
          if (Date.now() > deadline) throw new Error('dispatchers did not start')
          await new Promise((r) => setTimeout(r, 5))
        }
      }
    }
  }

  it('retries 503s with the same key and delivers every record exactly once, across tenants', async () => {
    receiver.respond = (attempt) => (attempt <= 2 ? 503 : 200)
    await append('segment-changes', 0, 5) // before the webhook existed: not sent
    start([{ url: receiver.url, streams: ['segment-changes'] }])
    await started(receiver.url, ['segment-changes'])
    const users = [...(await append('segment-changes', 0, 7)), ...(await append('segment-changes', 1, 4))]
    await receiver.until('both partitions delivered', () => receiver.accepted.length >= users.length)
    expect(receiver.accepted.map((r) => r.user_id).sort()).toEqual([...users].sort())
    expect(new Set(receiver.accepted.map((r) => r.tenant))).toEqual(new Set(['default', 'acme']))
    // Every batch was tried three times under one key.
    const byKey = new Map<string, Received[]>()
    for (const r of receiver.requests) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r])
    expect(byKey.size).toBe(2)
    for (const [key, tries] of byKey) {
      expect(tries.map((t) => t.status)).toEqual([503, 503, 200])
      expect(tries.every((t) => JSON.stringify(t.records) === JSON.stringify(tries[0]!.records))).toBe(true)
      const recs = tries[0]!.records
      expect(key).toBe(`segment-changes:${recs[0]!.partition}:${recs[0]!.offset}-${recs.at(-1)!.offset}`)
      expect(tries[0]!.stream).toBe('segment-changes')
      expect(tries[0]!.contentType).toBe('application/json')
    }
    expect(await counts({ retried: 4, delivered: 2 })).toEqual({ retried: 4, delivered: 2 })
  })

  it('sends at most 100 records per POST, in offset order', async () => {
    start([{ url: receiver.url, streams: ['notifications'] }], { start: 'earliest' })
    await append('notifications', 1, 250)
    await receiver.until('250 records', () => receiver.accepted.length >= 250)
    const p1 = receiver.requests.filter((r) => r.records[0]!.partition === 1)
    expect(p1.every((r) => r.records.length <= 100)).toBe(true)
    const offsets = p1.flatMap((r) => r.records.map((x) => x.offset))
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b))
    expect(new Set(offsets).size).toBe(offsets.length)
  })

  it('skips a batch refused with a 4xx and goes on', async () => {
    let first = true
    receiver.respond = () => {
      if (!first) return 200
      first = false
      return 400
    }
    start([{ url: receiver.url, streams: ['notifications'] }])
    await started(receiver.url, ['notifications'])
    await append('notifications', 0, 3)
    await receiver.until('the refusal', () => receiver.requests.length >= 1)
    const later = await append('notifications', 0, 2)
    await receiver.until('the next batch', () => receiver.accepted.length >= 2)
    expect(receiver.accepted.map((r) => r.user_id)).toEqual(later)
    expect(await counts({ dropped: 1, delivered: 1 })).toEqual({ dropped: 1, delivered: 1 })
  })

  it('sends only the listed segments', async () => {
    start([{ url: receiver.url, streams: ['segment-changes'], only: ['whale'] }])
    await started(receiver.url, ['segment-changes'])
    await append('segment-changes', 0, 3, { segment: 'minnow' })
    const whales = await append('segment-changes', 0, 2, { segment: 'whale' })
    await receiver.until('whales', () => receiver.accepted.length >= 2)
    await new Promise((r) => setTimeout(r, 100))
    expect(receiver.accepted.map((r) => r.user_id)).toEqual(whales)
  })

  it('resumes from committed offsets after a restart, re-sending nothing', async () => {
    const hook = [{ url: receiver.url, streams: ['segment-changes' as const, 'notifications' as const] }]
    start(hook)
    await started(receiver.url, ['segment-changes', 'notifications'])
    const a = [...(await append('segment-changes', 0, 3)), ...(await append('notifications', 1, 2))]
    await receiver.until('first records', () => receiver.accepted.length >= a.length)
    await runner!.stop()
    const b = await append('segment-changes', 1, 4) // while stopped
    start(hook)
    await receiver.until('records appended while stopped', () => receiver.accepted.length >= a.length + b.length)
    await new Promise((r) => setTimeout(r, 150))
    expect(receiver.requests.every((r) => r.status === 200)).toBe(true)
    expect(receiver.accepted.map((r) => r.user_id).sort()).toEqual([...a, ...b].sort())
    expect(receiver.requests.map((r) => r.key)).toEqual([...new Set(receiver.requests.map((r) => r.key))])
  })

  it('after a stop mid-request, re-sends the same batch under the same key', async () => {
    receiver.respond = () => 'hang'
    const hook = [{ url: receiver.url, streams: ['segment-changes' as const] }]
    start(hook, { stopGraceMs: 100 })
    await started(receiver.url, ['segment-changes'])
    const a = await append('segment-changes', 0, 5)
    await receiver.until('the request that hangs', () => receiver.requests.length >= 1)
    await runner!.stop()
    // More records land while stopped: a fresh read would make a bigger batch with another key.
    const b = await append('segment-changes', 0, 5)
    receiver.respond = () => 200
    start(hook)
    await receiver.until('all ten', () => receiver.accepted.length >= 10)
    const [hung, resent] = receiver.requests
    expect(resent!.key).toBe(hung!.key)
    expect(resent!.records).toEqual(hung!.records)
    expect(receiver.accepted.map((r) => r.user_id)).toEqual([...a, ...b])
  })
})
