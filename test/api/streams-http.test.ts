/**
 * The stream routes over real HTTP, on a real embedded log, with records appended straight to the
 * output topics (no engine): framing, filters, tenants, cursors and resuming, heartbeats, cleanup,
 * backpressure and append-to-delivery latency.
 */
import { createServer, type Server } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Auth, type ApiKey } from '../../src/api/auth.ts'
import { defaultConfig } from '../../src/api/config.ts'
import { Deduper } from '../../src/ingest/dedupe.ts'
import type { ApiContext } from '../../src/api/context.ts'
import { ApiMetrics } from '../../src/api/metrics.ts'
import { createStreamsRoutes } from '../../src/api/routes/streams.ts'
import { Tail } from './sse-tail.ts'
import { SseWriter } from '../../src/api/streams/sse.ts'
import type { EngineClient } from '../../src/engine/thread/protocol.ts'
import type { SegmentChange } from '../../src/engine/records.ts'
import type { EventLog } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import type { PlayerStore } from '../../src/players/player-store.ts'
import type { StateStore } from '../../src/state/state-store.ts'
import { Signal } from '../../src/api/signal.ts'

const P = 4
const KEYS: ApiKey[] = [
  { key: 'k_read', tenant: 'default', scopes: ['read'] },
  { key: 'k_write', tenant: 'default', scopes: ['write'] },
  { key: 'k_acme', tenant: 'acme', scopes: ['read'] },
]

describe('SSE streams over HTTP', () => {
  let dir: string
  let log: EventLog
  let app: FastifyInstance
  let base: string
  let activeReads = 0
  const tails: Tail[] = []
  let userSeq = 0

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tagstream-streams-'))
    const opened = await openEventLog(join(dir, 'log'), { partitions: P, retentionCheckMs: 0 })
    const inner = opened.log
    // Counts reads in flight, to show that a closed stream leaves no loop behind.
    log = {
      createTopic: (t, s) => inner.createTopic(t, s),
      partitionCount: (t) => inner.partitionCount(t),
      append: (t, p, r) => inner.append(t, p, r),
      read: async (t, p, o, opts) => {
        activeReads++
        try {
          return await inner.read(t, p, o, opts)
        } finally {
          activeReads--
        }
      },
      offsets: (t, p) => inner.offsets(t, p),
      commit: (g, t, p, o) => inner.commit(g, t, p, o),
      committed: (g, t, p) => inner.committed(g, t, p),
      applyRetention: (n) => inner.applyRetention(n),
      close: () => inner.close(),
    }
    const ctx: ApiContext = {
      config: defaultConfig({ dataDir: dir, partitions: P, keys: KEYS }),
      log,
      partitions: opened.partitions,
      engine: {} as EngineClient,
      // Streams and webhooks use neither the engine, the players nor the state store.
      players: {} as PlayerStore,
      state: {} as StateStore,
      auth: new Auth(KEYS),
      metrics: new ApiMetrics(),
      logger: pino({ level: 'silent' }),
      inflight: { bytes: 0 },
      deduper: new Deduper({ horizonMs: 600_000, maxEntries: 1000 }),
      warehouseFiles: new Signal(),
    }
    app = Fastify()
    await createStreamsRoutes({ heartbeatMs: 100, pollWaitMs: 200 })(app, ctx)
    base = await app.listen({ host: '127.0.0.1', port: 0 })
  })

  afterEach(() => {
    for (const t of tails.splice(0)) t.close()
  })

  afterAll(async () => {
    await app.close()
    await log.close()
    rmSync(dir, { recursive: true, force: true })
  })

  async function open(path: string, key: string | null = 'k_read', headers: Record<string, string> = {}): Promise<Tail> {
    const ac = new AbortController()
    const res = await fetch(`${base}${path}`, { headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers }, signal: ac.signal })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const tail = new Tail(res, ac)
    tails.push(tail)
    // The opening frame (retry + starting cursor) tells us the start positions are fixed.
    await tail.until('the opening frame', () => tail.frames.length > 0)
    return tail
  }

  function change(segment: string, tenant = 'default', user = `u${userSeq++}`): SegmentChange {
    return { segment, tenant, user_id: user, change: 'entered', at: Date.now(), values: { 'count(spin, 1h)': 3 }, version: 1 }
  }

  async function append(partition: number, ...changes: SegmentChange[]): Promise<number> {
    const r = await log.append(
      'segment-changes',
      partition,
      changes.map((c) => ({ key: `${c.tenant}:${c.user_id}`, value: Buffer.from(JSON.stringify(c)) })),
    )
    return r.baseOffset
  }

  it('refuses a request without a key (401) or without the read scope (403)', async () => {
    const none = await fetch(`${base}/v1/segment-changes`)
    expect(none.status).toBe(401)
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('unauthorized')
    const writeOnly = await fetch(`${base}/v1/notifications`, { headers: { authorization: 'Bearer k_write' } })
    expect(writeOnly.status).toBe(403)
  })

  it('refuses a malformed cursor with 400 invalid_cursor naming the problem', async () => {
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{}, '?from=yesterday', /must start with "v1\."/],
      [{}, `?from=v1.s.${'0.'.repeat(P - 1)}`, /offset of partition 3 \(""\)/],
      [{}, '?from=v1.n.0.0.0.0', /belongs to \/v1\/notifications/],
      [{}, '?from=v1.s.0.0', /has 2 partition offsets; this stream has 4 partitions/],
      [{}, '?from=v1.s.0.0.0.zz', /partition 3 is at offset 1295, past the end of the log/],
      [{ 'last-event-id': 'v1.s.x!' }, '', /must start|has 1 partition|not a base-36/],
    ]
    for (const [headers, query, message] of cases) {
      const res = await fetch(`${base}/v1/segment-changes${query}`, { headers: { authorization: 'Bearer k_read', ...headers } })
      expect(res.status).toBe(400)
      const body = (await res.json()) as { error: { code: string; message: string } }
      expect(body.error.code).toBe('invalid_cursor')
      expect(body.error.message).toMatch(message)
    }
  })

  it('streams new records from all partitions as framed events, starting now', async () => {
    await append(0, change('before'))
    const tail = await open('/v1/segment-changes')
    expect(tail.frames[0]!.retry).toBe(1000)
    expect(tail.frames[0]!.data).toBeNull()
    const records = [change('s0'), change('s1'), change('s2'), change('s3')]
    const offsets = await Promise.all(records.map((c, p) => append(p, c)))
    await tail.untilEvents(4)
    const events = tail.events
    expect(events.map((e) => e.event)).toEqual(Array(4).fill('segment-change'))
    expect(events.map((e) => e.record.segment).sort()).toEqual(['s0', 's1', 's2', 's3'])
    for (const e of events) {
      const p = e.record.partition as number
      expect(e.record).toEqual({ ...records[p], partition: p, offset: offsets[p] })
    }
    // The last id covers every partition after its record.
    const last = events
      .at(-1)!
      .id.split('.')
      .slice(2)
      .map((s) => parseInt(s, 36))
    expect(last).toEqual(offsets.map((o) => o + 1))
  })

  it('shows a tenant only its own records, and filters by segment', async () => {
    const mine = await open('/v1/segment-changes')
    const acme = await open('/v1/segment-changes', 'k_acme')
    const whales = await open('/v1/segment-changes?segment=whale,shark')
    await append(1, change('whale'), change('whale', 'acme'), change('minnow'), change('shark', 'acme'), change('shark'))
    await mine.untilEvents(3)
    await acme.untilEvents(2)
    await whales.untilEvents(2)
    expect(mine.events.map((e) => e.record.segment)).toEqual(['whale', 'minnow', 'shark'])
    expect(acme.events.map((e) => [e.record.segment, e.record.tenant])).toEqual([
      ['whale', 'acme'],
      ['shark', 'acme'],
    ])
    expect(whales.events.map((e) => e.record.segment)).toEqual(['whale', 'shark'])
  })

  it('resumes after Last-Event-ID or ?from= with no loss and no repeat', async () => {
    const first = await open('/v1/segment-changes')
    for (let p = 0; p < P; p++) await append(p, change(`a${p}`))
    await first.untilEvents(P)
    const seen = first.lastEventId
    first.close()
    // Missed while disconnected: some other tenant's records in between, which the cursor skips over on resume.
    const missed: string[] = []
    for (let i = 0; i < 12; i++) {
      const p = i % P
      await append(p, change('other', 'acme'), change(`m${i}`))
      missed.push(`m${i}`)
    }
    const byHeader = await open('/v1/segment-changes?from=earliest', 'k_read', { 'last-event-id': seen })
    const byQuery = await open(`/v1/segment-changes?from=${seen}`)
    for (const t of [byHeader, byQuery]) {
      await t.untilEvents(12)
      await new Promise((r) => setTimeout(r, 100))
      expect(t.events.map((e) => e.record.segment).sort()).toEqual([...missed].sort())
    }
    // Resuming from every id in turn gives exactly the suffix after it.
    const ids = byQuery.events.map((e) => e.id)
    const again = await open(`/v1/segment-changes?from=${ids[5]}`)
    await again.untilEvents(6)
    await new Promise((r) => setTimeout(r, 100))
    expect(again.events.map((e) => e.record.segment)).toEqual(byQuery.events.slice(6).map((e) => e.record.segment))
  })

  it('resumes from the opening cursor when the client saw no event', async () => {
    const t = await open('/v1/segment-changes?segment=never')
    const start = t.lastEventId
    t.close()
    await append(2, change('late'))
    const back = await open('/v1/segment-changes', 'k_read', { 'last-event-id': start })
    await back.untilEvents(1)
    expect(back.events[0]!.record.segment).toBe('late')
  })

  it('reads from each partition start with ?from=earliest', async () => {
    const total = (await Promise.all(Array.from({ length: P }, (_, p) => log.offsets('segment-changes', p)))).reduce((n, o) => n + o.end - o.start, 0)
    const acmeTotal = 3
    const t = await open('/v1/segment-changes?from=earliest', 'k_acme')
    await t.untilEvents(acmeTotal)
    expect(total).toBeGreaterThan(acmeTotal)
    expect(t.events.every((e) => e.record.tenant === 'acme')).toBe(true)
  })

  it('serves notifications with their own event name and trigger filter', async () => {
    const t = await open('/v1/notifications?trigger=cart_push')
    const n = (trigger: string) => ({ trigger, emit: 'notification', tenant: 'default', user_id: 'u1', event: 'add_to_cart', event_id: 'e1', at: 1, properties: {}, values: {} })
    await log.append(
      'notifications',
      3,
      [n('other'), n('cart_push')].map((v) => ({ key: 'default:u1', value: Buffer.from(JSON.stringify(v)) })),
    )
    await t.untilEvents(1)
    expect(t.events[0]!.event).toBe('notification')
    expect(t.events[0]!.id).toMatch(/^v1\.n\./)
    expect(t.events[0]!.record).toMatchObject({ trigger: 'cart_push', partition: 3 })
  })

  it('sends keep-alive comments', async () => {
    const t = await open('/v1/segment-changes')
    await t.until('two heartbeats', () => t.frames.filter((f) => f.comments.includes('keep-alive')).length >= 2, 2000)
  })

  it('stops reading when the client disconnects', async () => {
    // Streams closed by earlier tests end within one poll wait (200 ms).
    const settle = Date.now() + 2000
    while (activeReads > 0 && Date.now() < settle) await new Promise((r) => setTimeout(r, 20))
    const before = activeReads
    expect(before).toBe(0)
    const t = await open('/v1/segment-changes')
    await t.until('reads to start', () => activeReads >= before + P)
    t.close()
    const deadline = Date.now() + 2000
    while (activeReads > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(activeReads).toBe(before)
  })

  it('delivers an append to a waiting client within a few milliseconds', async () => {
    const t = await open('/v1/segment-changes')
    const visible: number[] = []
    const total: number[] = []
    for (let i = 0; i < 200; i++) {
      const p = i % P
      const t0 = performance.now()
      await append(p, change('lat'))
      const t1 = performance.now()
      await t.until(`event ${i + 1}`, () => t.frames.length > i + 1)
      const t2 = performance.now()
      visible.push(t2 - t1)
      total.push(t2 - t0)
    }
    const q = (xs: number[], f: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(f * xs.length))]!
    const show = (xs: number[]) => `p50 ${q(xs, 0.5).toFixed(2)} ms, p99 ${q(xs, 0.99).toFixed(2)} ms, max ${q(xs, 1).toFixed(2)} ms`
    console.log(`durable append -> SSE frame parsed by the client: ${show(visible)}`)
    console.log(`append call (incl. fsync) -> SSE frame parsed by the client: ${show(total)}`)
    expect(q(visible, 0.99)).toBeLessThan(100)
  })
})

describe('SseWriter backpressure', () => {
  let server: Server
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('waits for drain instead of buffering without bound', async () => {
    let written = 0
    let finished!: () => void
    const allWritten = new Promise<void>((r) => (finished = r))
    const chunk = 'x'.repeat(64 * 1024)
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      const w = new SseWriter(res)
      void (async () => {
        for (let i = 0; i < 400; i++) {
          if (!(await w.write(chunk))) return
          written++
        }
        w.end()
        finished()
      })()
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as AddressInfo
    const res = await fetch(`http://127.0.0.1:${port}/`)
    // Not reading: the writer must stall far short of 400 × 64 KiB = 25 MiB.
    await new Promise((r) => setTimeout(r, 300))
    const stalledAt = written
    expect(stalledAt).toBeLessThan(200)
    let bytes = 0
    for await (const c of res.body!) bytes += c.length
    await allWritten
    expect(written).toBe(400)
    expect(bytes).toBe(400 * chunk.length)
  })
})
