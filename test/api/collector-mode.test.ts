/**
 * `serve --no-engine`: a collector over the log and state store an engine wrote. It accepts events
 * into the log without processing them, and answers profiles, segments, members and searches exactly
 * as the engine-thread server did from the same state.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { StoreEngineClient } from '../../src/api/engine-store/index.ts'
import { TOPICS, type EventLog } from '../../src/log/event-log.ts'
import { readiness } from '../../src/api/ops/index.ts'
import { engineOptions } from '../../src/engine/engine-options.ts'
import { prepareRules } from '../../src/engine/engine-rules.ts'
import { EmbeddedStateStore } from '../../src/state/embedded/state-store.ts'
import type { StateStore } from '../../src/state/state-store.ts'
import { defaultConfig } from '../../src/api/config.ts'
import { serveEnv, serverConfig } from '../../src/cli/serve.ts'
import { runWorker, workerSettings } from '../../src/cli/worker.ts'
import { createLogger } from '../../src/logger.ts'
import { testSchema } from '../state/postgres-helpers.ts'
import { dropTopics, freshPrefix, kafkaUrl, requireKafka } from '../worker/helpers.ts'
import { auth, startTestServer, TEST_RULES, type TestServer } from './harness.ts'
import { until } from '../support/until.ts'

const T0 = Date.UTC(2026, 10, 1, 10)

const EVENTS = [
  { event: 'spin', user_id: 'u1', ts: T0, country: 'TR' },
  { event: 'spin', user_id: 'u1', ts: T0 + 1000 },
  { event: 'spin', user_id: 'u1', ts: T0 + 2000 },
  { event: 'purchase', user_id: 'u2', ts: T0 + 3000, amount: 25, country: 'DE' },
  { event: 'spin', user_id: 'u3', ts: T0 + 4000, country: 'TR' },
  { event: 'spin', user_id: 'u4', ts: T0 + 4100 },
  { event: 'spin', user_id: 'u4', ts: T0 + 4200 },
  { event: 'spin', user_id: 'u4', ts: T0 + 4300 },
  { event: 'purchase', user_id: 'u5', ts: T0 + 5000, amount: 11 },
  // u1, u2, u3 and u5 share partition 3 (of 4): a day later its clock has slid u1 out of spinner and
  // made them all old users, so profiles read at the wrong time would differ.
  { event: 'login', user_id: 'u2', ts: T0 + 25 * 3_600_000 },
]
const USERS = ['u1', 'u2', 'u3', 'u4', 'u5', 'nobody']
/** Every read a client can make of profiles and segments, per key (tenant). */
const READS = [
  ...USERS.map((u) => `/v1/profiles/${u}`),
  '/v1/segments',
  '/v1/segments/spinner',
  '/v1/segments/missing',
  '/v1/segments/spinner/members',
  '/v1/segments/spinner/members?limit=1',
  '/v1/segments/buyer/members',
  '/v1/profiles?where=country:TR',
  '/v1/profiles?segment=spinner&limit=1',
  '/v1/profiles?segment=buyer&where=total_purchases>20',
]

async function postEvents(s: TestServer, events: Array<Record<string, unknown>>, key = s.keys.write): Promise<Response> {
  return fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: JSON.stringify(events) })
}

/** Status and body of every read, as the read and acme keys see them. */
async function view(s: TestServer): Promise<unknown[]> {
  const out: unknown[] = []
  for (const key of [s.keys.read, s.keys.acme]) {
    for (const path of READS) {
      const r = await fetch(`${s.url}${path}`, { headers: auth(key) })
      out.push([key, path, r.status, await r.json()])
    }
  }
  return out
}

async function ends(log: EventLog, topic: string, partitions: number): Promise<number> {
  let n = 0
  for (let p = 0; p < partitions; p++) n += (await log.offsets(topic, p)).end
  return n
}

describe('serve --no-engine on the embedded log and state store', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tagstream-collector-'))
  const segmentsPath = join(dataDir, 'test-segments.yaml')
  let engineView: unknown[]
  let changesWritten: number
  let collector: TestServer

  beforeAll(async () => {
    // The engine-thread server writes the state: its answers are the reference.
    // Fixed event times: both servers read as of the watermark, not of today's wall clock.
    const engine = await startTestServer({ dataDir, clockTickMs: 0 })
    try {
      expect((await postEvents(engine, EVENTS)).status).toBe(200)
      expect((await postEvents(engine, [{ event: 'spin', user_id: 'u1', ts: T0 }], engine.keys.acme)).status).toBe(200)
      await until('the engine to process every event', () => engine.ctx.engine.snapshot().processed >= EVENTS.length + 1)
      engineView = await view(engine)
      changesWritten = await ends(engine.ctx.log, TOPICS.segmentChanges, engine.ctx.partitions)
    } finally {
      await engine.close()
    }
    collector = await startTestServer({ dataDir, engine: false, segmentsPath, clockTickMs: 0 })
  })
  afterAll(async () => {
    await collector?.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('runs no engine: reads come from the store', () => {
    expect(collector.ctx.engine).toBeInstanceOf(StoreEngineClient)
    expect(collector.ctx.config.engine).toBe(false)
  })

  it('answers profiles, segments with sizes, members and searches exactly as the engine thread did', async () => {
    expect(changesWritten).toBeGreaterThan(0)
    const got = await view(collector)
    expect(got).toEqual(engineView)
    // The comparison is not vacuous: members, sizes and a profile with window metrics are there.
    expect(got).toContainEqual([collector.keys.read, '/v1/segments/spinner/members', 200, { members: [{ user_id: 'u4', since: T0 + 4300 }], next: null }])
    const list = got.find((x) => (x as unknown[])[0] === collector.keys.read && (x as unknown[])[1] === '/v1/segments') as [string, string, number, { segments: Array<{ name: string; size: number }> }]
    expect(list[3].segments.map((x) => [x.name, x.size])).toEqual([
      ['spinner', 1],
      ['buyer', 2],
    ])
    expect(got).toContainEqual([
      collector.keys.read,
      '/v1/profiles/u1',
      200,
      expect.objectContaining({ segments: [], metrics: { 'count(spin, 1h)': 0, 'sum(purchase.amount)': 0 }, traits: expect.objectContaining({ is_new: false, event_count: 3 }) }),
    ])
    expect(got).toContainEqual([
      collector.keys.read,
      '/v1/profiles/u4',
      200,
      expect.objectContaining({ segments: [{ segment: 'spinner', since: T0 + 4300 }], traits: expect.objectContaining({ is_new: true }) }),
    ])
    expect(got).toContainEqual([collector.keys.acme, '/v1/profiles/u1', 200, expect.objectContaining({ counts: { spin: 1 }, segments: [] })])
  })

  it('is ready with no lag, and reports the checkpointed counters and sizes in /metrics', async () => {
    const ready = await fetch(`${collector.url}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: 'ready', lag: 0, partitions: 4 })
    const snap = collector.ctx.engine.snapshot()
    expect(snap).toMatchObject({ ready: true, error: null, processed: EVENTS.length + 1, segmentSizes: { spinner: 1, buyer: 2 }, users: 6 })
    const metrics = await (await fetch(`${collector.url}/metrics`)).text()
    expect(metrics).toMatch(/segment="spinner"} 1/)
  })

  it("accepts a change of the key's tenant's rules: stored, and announced to every partition for the workers", async () => {
    const { log, partitions } = collector.ctx
    const before = await ends(log, TOPICS.events, partitions)
    const r = await fetch(`${collector.url}/v1/segments/whale`, {
      method: 'PUT',
      headers: { ...auth(collector.keys.acmeAdmin), 'content-type': 'application/json' },
      body: JSON.stringify({ when: 'sum(purchase.amount) > 100' }),
    })
    expect(r.status).toBe(200)
    // As of the workers' last checkpoints: none has read the change yet.
    expect(await r.json()).toEqual({ name: 'whale', when: 'sum(purchase.amount) > 100', keep: null, description: null, size: 0 })
    expect(await ends(log, TOPICS.events, partitions)).toBe(before + partitions)
    expect((await fetch(`${collector.url}/v1/segments/whale`, { headers: auth(collector.keys.acme) })).status).toBe(200)
    expect((await fetch(`${collector.url}/v1/segments/whale`, { headers: auth(collector.keys.read) })).status).toBe(404)
  })

  it('accepts events into the log without processing them; lag shows them until a worker does', async () => {
    const { log, partitions } = collector.ctx
    const eventsBefore = await ends(log, TOPICS.events, partitions)
    const r = await postEvents(collector, [
      { event: 'spin', user_id: 'u3', ts: T0 + 6000 },
      { event: 'spin', user_id: 'u3', ts: T0 + 6001 },
      { event: 'spin', user_id: '', ts: T0 + 6002 },
    ])
    expect(r.status).toBe(200)
    expect(await r.json()).toMatchObject({ accepted: 2, rejected: [expect.objectContaining({ index: 2, field: 'user_id' })] })
    expect(await ends(log, TOPICS.events, partitions)).toBe(eventsBefore + 2)
    expect(await ends(log, TOPICS.deadLetters, partitions)).toBe(1)

    const engine = collector.ctx.engine as StoreEngineClient
    await engine.refresh()
    const ready = (await (await fetch(`${collector.url}/readyz`)).json()) as { lag: number }
    // The two events, and the rules records of the change above (one a partition): nothing here processes them.
    expect(ready).toEqual({ status: 'ready', lag: 2 + partitions, partitions: 4 })
    // Half a second is five engine-thread polls: nothing here processes them.
    await new Promise((r) => setTimeout(r, 500))
    expect(await ends(log, TOPICS.segmentChanges, partitions)).toBe(changesWritten)
    const u3 = (await (await fetch(`${collector.url}/v1/profiles/u3`, { headers: auth(collector.keys.read) })).json()) as { traits: { event_count: number } }
    expect(u3.traits.event_count).toBe(1)
    expect(engine.snapshot().processed).toBe(EVENTS.length + 1)
  })
})

/** The real store, with reads that fail while `down` is set: an unreachable database, as the client sees it. */
function breakable(store: StateStore): { store: StateStore; down: boolean } {
  const handle = { down: false, store }
  handle.store = new Proxy(store, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver) as unknown
      if (key !== 'loadCheckpoint' || typeof v !== 'function') return v
      return (...args: unknown[]) => (handle.down ? Promise.reject(new Error('connect ECONNREFUSED')) : (v as (...a: unknown[]) => unknown).apply(target, args))
    },
  })
  return handle
}

describe('StoreEngineClient readiness', () => {
  it('turns failed while the store cannot be read, and ready again once it can', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tagstream-collector-ready-'))
    const s = await startTestServer({ dataDir, engine: false })
    // The workers' checkpoints the server reads, opened beside it (players have a store of their own now).
    const state = EmbeddedStateStore.open(join(dataDir, 'state'))
    const handle = breakable(state)
    const options = engineOptions()
    const client = await StoreEngineClient.start({
      log: s.ctx.log,
      store: handle.store,
      partitions: s.ctx.partitions,
      rules: prepareRules({ segments: [], triggers: [] }, options),
      engine: options,
      logger: s.ctx.logger,
    })
    try {
      expect(readiness(client.snapshot())).toEqual({ statusCode: 200, body: { status: 'ready', lag: 0, partitions: 4 } })
      handle.down = true
      await client.refresh()
      expect(readiness(client.snapshot())).toEqual({ statusCode: 503, body: { status: 'failed', error: 'state store or log unreadable: connect ECONNREFUSED' } })
      handle.down = false
      await client.refresh()
      expect(readiness(client.snapshot()).statusCode).toBe(200)
    } finally {
      await client.close()
      await state.close()
      await s.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })

  it('is not ready before the first read of the checkpoints succeeded', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tagstream-collector-ready-'))
    const s = await startTestServer({ dataDir, engine: false })
    // The workers' checkpoints the server reads, opened beside it (players have a store of their own now).
    const state = EmbeddedStateStore.open(join(dataDir, 'state'))
    const handle = breakable(state)
    handle.down = true
    const options = engineOptions()
    const client = await StoreEngineClient.start({
      log: s.ctx.log,
      store: handle.store,
      partitions: s.ctx.partitions,
      rules: prepareRules({ segments: [], triggers: [] }, options),
      engine: options,
      logger: s.ctx.logger,
    })
    try {
      expect(readiness(client.snapshot())).toEqual({ statusCode: 503, body: { status: 'failed', error: 'state store or log unreadable: connect ECONNREFUSED' } })
      expect(client.snapshot().ready).toBe(false)
    } finally {
      await client.close()
      await state.close()
      await s.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})

describe('serve --no-engine on Kafka + Postgres, with a worker doing the segmentation', () => {
  const prefix = freshPrefix('collector')
  const url = kafkaUrl(prefix)
  const pg = testSchema('collector')
  const dataDir = mkdtempSync(join(tmpdir(), 'tagstream-collector-kafka-'))
  const segmentsPath = join(dataDir, 'segments.yaml')
  const collectors: TestServer[] = []
  let stopWorker: () => void = () => {}
  let worker: Promise<void> = Promise.resolve()

  beforeAll(async () => {
    requireKafka()
    writeFileSync(segmentsPath, TEST_RULES)
    // Two collectors behind a (notional) load balancer; they create the topics and the schema.
    for (let i = 0; i < 2; i++) collectors.push(await startTestServer({ dataDir, logUrl: url, stateUrl: pg.url, engine: false, warehouse: false, segmentsPath }))
    const settings = workerSettings(
      { data: dataDir, log: url, partitions: 4 },
      { state: pg.url, segments: segmentsPath, checkpointMs: '100', heartbeatMs: '200', leaseMs: '1500', appendMarginMs: '500' },
      {},
    )
    const stop = new Promise<void>((resolve) => (stopWorker = resolve))
    worker = runWorker(settings, createLogger('worker', process.env.TAGSTREAM_LOG_LEVEL ?? 'warn'), stop)
  })
  afterAll(async () => {
    stopWorker()
    await worker
    await Promise.all(collectors.map((c) => c.close()))
    await dropTopics(prefix)
    await pg.drop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('accepts on either collector; both answer what the worker checkpointed', async () => {
    const [a, b] = collectors as [TestServer, TestServer]
    // A second in the past: a time later than the collector's receive time would be clamped to it.
    const ts = Date.now() - 1000
    expect(
      (
        await postEvents(a, [
          { event: 'spin', user_id: 'k-1', ts },
          { event: 'spin', user_id: 'k-1', ts: ts + 1 },
        ])
      ).status,
    ).toBe(200)
    expect(
      (
        await postEvents(b, [
          { event: 'spin', user_id: 'k-1', ts: ts + 2 },
          { event: 'purchase', user_id: 'k-2', ts: ts + 3, amount: 50 },
        ])
      ).status,
    ).toBe(200)

    const profile = await until(
      "the worker's checkpoint to put k-1 in spinner",
      async () => {
        const r = await fetch(`${b.url}/v1/profiles/k-1`, { headers: auth(b.keys.read) })
        const p = (await r.json()) as { counts?: Record<string, number>; segments?: Array<{ segment: string; since: number }> }
        return r.status === 200 && p.segments?.some((s) => s.segment === 'spinner') ? p : null
      },
      30_000,
    )
    expect(profile).toMatchObject({ counts: { spin: 3 }, segments: [{ segment: 'spinner', since: ts + 2 }] })
    const fromA = await (await fetch(`${a.url}/v1/profiles/k-1`, { headers: auth(a.keys.read) })).json()
    expect(fromA).toEqual(profile)

    for (const c of collectors) {
      const engine = c.ctx.engine as StoreEngineClient
      const snap = await until(
        'the checkpoint of every event and the sizes',
        async () => {
          await engine.refresh()
          const s = engine.snapshot()
          // Sizes come from a scan redone at most every 5 s per partition: wait for both to be counted.
          return s.processed === 4 && s.segmentSizes.buyer === 1 && s.segmentSizes.spinner === 1 ? s : null
        },
        30_000,
      )
      expect(snap).toMatchObject({ ready: true, error: null, segmentSizes: { spinner: 1, buyer: 1 }, segmentChanges: 2 })
      expect(await (await fetch(`${c.url}/readyz`)).json()).toEqual({ status: 'ready', lag: 0, partitions: 4 })
      const members = await (await fetch(`${c.url}/v1/segments/buyer/members`, { headers: auth(c.keys.read) })).json()
      expect(members).toEqual({ members: [{ user_id: 'k-2', since: ts + 3 }], next: null })
    }
  })

  it("changes a tenant's rules on one collector: the worker applies them, both collectors answer with them", async () => {
    const [a, b] = collectors as [TestServer, TestServer]
    const r = await fetch(`${a.url}/v1/segments/whale`, {
      method: 'PUT',
      headers: { ...auth(a.keys.acmeAdmin), 'content-type': 'application/json' },
      body: JSON.stringify({ when: 'sum(purchase.amount) >= 100' }),
    })
    expect(r.status).toBe(200)
    const ts = Date.now() - 1000
    expect((await postEvents(b, [{ event: 'purchase', user_id: 'w-1', ts, amount: 150 }], b.keys.acme)).status).toBe(200)
    expect((await postEvents(b, [{ event: 'purchase', user_id: 'w-1', ts, amount: 150 }])).status).toBe(200)
    for (const c of [a, b]) {
      const members = await until(
        "the worker's checkpoint to put acme's w-1 in whale",
        async () => {
          const got = await fetch(`${c.url}/v1/segments/whale/members`, { headers: auth(c.keys.acme) })
          const body = (await got.json()) as { members?: Array<{ user_id: string }> }
          return got.status === 200 && (body.members?.length ?? 0) > 0 ? body : null
        },
        30_000,
      )
      expect(members).toEqual({ members: [{ user_id: 'w-1', since: ts }], next: null })
      // The default tenant has no whale: its w-1 bought the same, and no rule of its own names it.
      expect((await fetch(`${c.url}/v1/segments/whale/members`, { headers: auth(c.keys.read) })).status).toBe(404)
    }
  })

  it('erases a person asked on one collector: the worker erases at the record, both collectors stop answering for them', async () => {
    const [a, b] = collectors as [TestServer, TestServer]
    const ts = Date.now() - 1000
    expect(
      (
        await postEvents(
          a,
          [
            { event: 'spin', user_id: 'gone-1', ts },
            { event: 'spin', user_id: 'stays-1', ts },
          ],
          a.keys.acme,
        )
      ).status,
    ).toBe(200)
    await until('the worker to checkpoint gone-1', async () => (await fetch(`${b.url}/v1/profiles/gone-1`, { headers: auth(b.keys.acme) })).status === 200, 30_000)
    const r = await fetch(`${a.url}/v1/profiles/gone-1`, { method: 'DELETE', headers: auth(a.keys.acmeAdmin) })
    expect(r.status).toBe(202)
    const { status_url } = (await r.json()) as { status_url: string }
    // Either collector moves the job on; no collector writes a warehouse here, so that step has nothing to do.
    const job = await until(
      'the erase done',
      async () => {
        const j = (await (await fetch(`${b.url}${status_url}`, { headers: auth(b.keys.acmeAdmin) })).json()) as { status: string; steps: Record<string, boolean> }
        return j.status === 'done' ? j : null
      },
      30_000,
    )
    expect(job.steps).toEqual({ log: true, engine: true, warehouse: true })
    for (const c of collectors) {
      await until('the collector to read the checkpoint without gone-1', async () => (await fetch(`${c.url}/v1/profiles/gone-1`, { headers: auth(c.keys.acme) })).status === 404, 30_000)
      expect((await fetch(`${c.url}/v1/profiles/stays-1`, { headers: auth(c.keys.acme) })).status).toBe(200)
    }
  })
})

describe('the engine setting', () => {
  it('is on by default; --no-engine or TAGSTREAM_ENGINE=off turns it off; a typo is refused by name', () => {
    expect(defaultConfig().engine).toBe(true)
    const engineEnv = (value: string | undefined) => serveEnv({ TAGSTREAM_ENGINE: value }).engine ?? true
    expect(engineEnv(undefined)).toBe(true)
    expect(['on', 'true', '1', ' ON '].map(engineEnv)).toEqual([true, true, true, true])
    expect(['off', 'false', '0', 'Off'].map(engineEnv)).toEqual([false, false, false, false])
    expect(() => engineEnv('of')).toThrow('TAGSTREAM_ENGINE=of: must be "on" or "off" (or true/false, 1/0)')
    const global = { data: 'd', partitions: 4 }
    expect(serverConfig(global, { host: 'h', port: 1, warehouse: true, engine: false }, []).engine).toBe(false)
    expect(serverConfig(global, { host: 'h', port: 1, warehouse: true, engine: true }, []).engine).toBe(true)
  })
})
