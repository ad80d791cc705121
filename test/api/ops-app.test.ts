import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/api/app.ts'
import { Auth } from '../../src/api/auth.ts'
import { defaultConfig } from '../../src/api/config.ts'
import { Deduper } from '../../src/ingest/dedupe.ts'
import { sendError } from '../../src/api/errors.ts'
import { ERROR_RESPONSE_SCHEMA } from '../../src/api/openapi.ts'
import type { ApiContext } from '../../src/api/context.ts'
import { ApiMetrics } from '../../src/api/metrics.ts'
import type { EngineClient, EngineSnapshot } from '../../src/engine/thread/protocol.ts'
import { EmbeddedPlayerStore } from '../../src/players/embedded/player-store.ts'
import { EmbeddedStateStore } from '../../src/state/embedded/state-store.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { createLogger } from '../../src/logger.ts'
import { Signal } from '../../src/api/signal.ts'

// A real ApiContext (embedded log, metrics, auth, logger) around an engine whose snapshot the test sets:
// readiness and gauges are checked against states the real engine passes through too quickly to catch.
let snap: EngineSnapshot
const notUsed = (): never => {
  throw new Error('not used by the ops routes')
}
const engine: EngineClient = {
  profile: notUsed,
  profileJson: notUsed,
  searchProfiles: notUsed,
  segments: notUsed,
  members: notUsed,
  putSegment: notUsed,
  deleteSegment: notUsed,
  tenantRules: notUsed,
  replaceTenantRules: notUsed,
  ruleHistory: notUsed,
  traits: notUsed,
  snapshot: () => snap,
  close: async () => {},
}

let dataDir: string
let ctx: ApiContext
let app: FastifyInstance

function startingSnapshot(): EngineSnapshot {
  return {
    ready: false,
    partitions: [0, 1, 2, 3].map((partition) => ({ partition, nextOffset: 0, end: 2, watermark: null })),
    processed: 0,
    late: 0,
    lateDropped: 0,
    segmentChanges: 0,
    notifications: 0,
    segmentSizes: {},
    users: 0,
    error: null,
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tagstream-ops-'))
  const { log, partitions } = await openEventLog(join(dataDir, 'log'), { partitions: 4 })
  const config = defaultConfig({ dataDir, partitions, port: 0 })
  snap = startingSnapshot()
  ctx = {
    config,
    log,
    partitions,
    engine,
    players: EmbeddedPlayerStore.open(join(dataDir, 'state')),
    state: EmbeddedStateStore.open(join(dataDir, 'state')),
    auth: new Auth([{ key: 'k_admin', tenant: 'default', scopes: ['write', 'read', 'admin'] }]),
    metrics: new ApiMetrics(),
    logger: createLogger('ops-test', 'silent'),
    inflight: { bytes: 0 },
    deduper: new Deduper({ horizonMs: 600_000, maxEntries: 1000 }),
    warehouseFiles: new Signal(),
  }
  app = await buildApp(ctx)
  // Added after buildApp, like a route module registered after ops: one in its own encapsulated
  // context with a custom content-type parser (as the collector does), to check both get the
  // duration hook and show up in the OpenAPI document.
  app.get('/late-root', { schema: { summary: 'added after ops', tags: ['test'] } }, async () => ({ ok: true }))
  app.get('/late-error', { schema: { summary: 'always 400', tags: ['test'], response: { 400: ERROR_RESPONSE_SCHEMA } } }, async (_req, reply) =>
    sendError(reply, 400, 'bad_thing', 'that was bad', 'thing'),
  )
  app.get('/long-lived', { config: { httpDurationMetric: false } }, async () => ({ ok: true }))
  await app.register(async (child) => {
    child.addContentTypeParser('application/x-ndjson', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
    child.post(
      '/v1/raw',
      {
        schema: { summary: 'raw NDJSON body', tags: ['test'] },
        config: { openapi: { consumes: ['application/x-ndjson'], body: { type: 'string', description: 'one event per line' } } },
      },
      async (req) => ({ bytes: (req.body as Buffer).length }),
    )
  })
  await app.ready()
})

afterAll(async () => {
  await app?.close()
  await ctx?.players.close()
  await ctx?.state.close()
  await ctx?.log.close()
  rmSync(dataDir, { recursive: true, force: true })
})

/**
 * One sample line of the Prometheus text format: name, optional labels, a number. NaN and Inf in
 * any case: Prometheus parses values with Go's ParseFloat, and prom-client writes NaN as "Nan".
 */
const SAMPLE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?[iI][nN][fF]|[nN][aA][nN])( -?\d+)?$/
const COMMENT = /^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))$/

function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '') continue
    if (line.startsWith('#')) {
      expect(line).toMatch(COMMENT)
      continue
    }
    expect(line).toMatch(SAMPLE)
    const at = line.lastIndexOf(' ')
    samples.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return samples
}

describe('ops routes on buildApp', () => {
  it('GET /healthz answers ok', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ status: 'ok' })
  })

  it('GET /readyz follows the engine: starting, ready, failed', async () => {
    snap = startingSnapshot()
    let res = await app.inject({ method: 'GET', url: '/readyz' })
    expect(res.statusCode).toBe(503)
    expect(res.json()).toEqual({ status: 'starting', error: null })

    snap = { ...startingSnapshot(), ready: true }
    res = await app.inject({ method: 'GET', url: '/readyz' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ status: 'ready', lag: 8, partitions: 4 })

    snap = { ...startingSnapshot(), ready: true, error: 'engine thread exited with code 1' }
    res = await app.inject({ method: 'GET', url: '/readyz' })
    expect(res.statusCode).toBe(503)
    expect(res.json()).toEqual({ status: 'failed', error: 'engine thread exited with code 1' })
    snap = startingSnapshot()
  })

  it('needs no API key for the ops routes', async () => {
    for (const url of ['/healthz', '/readyz', '/metrics']) {
      const res = await app.inject({ method: 'GET', url })
      expect(res.statusCode, url).not.toBe(401)
    }
  })

  it('GET /metrics renders valid Prometheus text with fresh engine gauges', async () => {
    snap = {
      ...startingSnapshot(),
      ready: true,
      partitions: [{ partition: 0, nextOffset: 3, end: 10, watermark: 5 }],
      processed: 42,
      late: 2,
      lateDropped: 1,
      segmentChanges: 6,
      notifications: 3,
      segmentSizes: { whale: 7, lapsed: 1 },
    }
    let res = await app.inject({ method: 'GET', url: '/metrics' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    let samples = parsePrometheus(res.body)
    expect(samples.get('tagstream_engine_lag_events{partition="0"}')).toBe(7)
    expect(samples.get('tagstream_engine_processed_events')).toBe(42)
    expect(samples.get('tagstream_engine_late_events')).toBe(2)
    expect(samples.get('tagstream_engine_late_dropped_events')).toBe(1)
    expect(samples.get('tagstream_segment_changes')).toBe(6)
    expect(samples.get('tagstream_notifications')).toBe(3)
    expect(samples.get('tagstream_segment_members{segment="whale"}')).toBe(7)
    expect(samples.get('tagstream_segment_members{segment="lapsed"}')).toBe(1)
    expect(res.body).toContain('# TYPE tagstream_ingest_events_total counter')
    expect(res.body).toContain('# TYPE tagstream_http_request_duration_seconds histogram')
    expect(res.body).toContain('# TYPE tagstream_process_resident_memory_bytes gauge')

    snap = { ...snap, segmentSizes: { lapsed: 2 } }
    res = await app.inject({ method: 'GET', url: '/metrics' })
    samples = parsePrometheus(res.body)
    expect(samples.has('tagstream_segment_members{segment="whale"}')).toBe(false)
    expect(samples.get('tagstream_segment_members{segment="lapsed"}')).toBe(2)
    snap = startingSnapshot()
  })

  it('counts every request in the duration histogram by route pattern, method and status', async () => {
    const count = async (labels: string): Promise<number> => {
      const res = await app.inject({ method: 'GET', url: '/metrics' })
      return parsePrometheus(res.body).get(`tagstream_http_request_duration_seconds_count{${labels}}`) ?? 0
    }
    const health = await count('route="/healthz",method="GET",status="200"')
    const ready = await count('route="/readyz",method="GET",status="503"')
    const unmatched = await count('route="unmatched",method="GET",status="404"')
    const late = await count('route="/late-root",method="GET",status="200"')
    const raw = await count('route="/v1/raw",method="POST",status="200"')

    await app.inject({ method: 'GET', url: '/healthz' })
    await app.inject({ method: 'GET', url: '/healthz' })
    await app.inject({ method: 'GET', url: '/readyz' })
    const missing = await app.inject({ method: 'GET', url: '/no/such/thing?x=1' })
    expect(missing.statusCode).toBe(404)
    await app.inject({ method: 'GET', url: '/late-root' })
    const posted = await app.inject({ method: 'POST', url: '/v1/raw', headers: { 'content-type': 'application/x-ndjson' }, payload: '{"a":1}\n{"a":2}\n' })
    expect(posted.json()).toEqual({ bytes: 16 })

    expect(await count('route="/healthz",method="GET",status="200"')).toBe(health + 2)
    expect(await count('route="/readyz",method="GET",status="503"')).toBe(ready + 1)
    expect(await count('route="unmatched",method="GET",status="404"')).toBe(unmatched + 1)
    expect(await count('route="/late-root",method="GET",status="200"')).toBe(late + 1)
    expect(await count('route="/v1/raw",method="POST",status="200"')).toBe(raw + 1)
    await app.inject({ method: 'GET', url: '/long-lived' })
    expect(await count('route="/long-lived",method="GET",status="200"')).toBe(0)
    await app.inject({ method: 'GET', url: '/docs/json' })
    expect(await count('route="/docs/json",method="GET",status="200"')).toBeGreaterThan(0)
    // /metrics observes itself too (the scrape before this one has been counted).
    expect(await count('route="/metrics",method="GET",status="200"')).toBeGreaterThan(0)
  })
})

describe('OpenAPI and /docs', () => {
  it('GET /docs/json is an OpenAPI 3 document listing the routes', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/json' })
    expect(res.statusCode).toBe(200)
    const doc = res.json() as {
      openapi: string
      info: { title: string; version: string }
      paths: Record<string, Record<string, { summary?: string; security?: unknown[]; requestBody?: { content: Record<string, unknown>; description?: string } }>>
      components: { securitySchemes: Record<string, { type: string; scheme?: string; in?: string; name?: string }> }
      security: unknown[]
    }
    expect(doc.openapi).toMatch(/^3\./)
    expect(doc.info.title).toBe('tagstream')
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/)
    expect(doc.components.securitySchemes).toEqual({
      bearerAuth: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      apiKeyHeader: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-API-Key' }),
    })
    expect(doc.security).toEqual([{ bearerAuth: [] }, { apiKeyHeader: [] }])
    for (const path of ['/healthz', '/readyz', '/metrics', '/late-root']) {
      expect(doc.paths[path]?.get, path).toBeDefined()
    }
    expect(doc.paths['/healthz']?.get?.security).toEqual([])
    // The route with its own content-type parser is documented, with its documentation-only body.
    const raw = doc.paths['/v1/raw']?.post
    expect(raw?.summary).toBe('raw NDJSON body')
    expect(Object.keys(raw?.requestBody?.content ?? {})).toEqual(['application/x-ndjson'])
    expect(raw?.requestBody?.description).toBe('one event per line')
    // The shared error schema documents the error shape, and serializes it unchanged.
    const errorDoc = doc.paths['/late-error']?.get as { responses?: Record<string, { content?: Record<string, { schema?: { required?: string[] } }> }> } | undefined
    expect(errorDoc?.responses?.['400']?.content?.['application/json']?.schema?.required).toEqual(['error'])
    const err = await app.inject({ method: 'GET', url: '/late-error' })
    expect(err.statusCode).toBe(400)
    expect(err.json()).toEqual({ error: { code: 'bad_thing', message: 'that was bad', field: 'thing' } })
    // The UI's own routes are hidden.
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/docs'))).toBe(false)
  })

  it('GET /docs (and /docs/) serves the UI from local assets only', async () => {
    for (const page of ['/docs', '/docs/']) {
      const res = await app.inject({ method: 'GET', url: page })
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toMatch(/^text\/html/)
      expect(res.body).not.toMatch(/https?:\/\//)
      // The browser may fetch nothing from anywhere else, whatever the bundle tries.
      const csp = String(res.headers['content-security-policy'])
      expect(csp).toContain("default-src 'self'")
      expect(csp).not.toMatch(/https?:/)
      const refs = [...res.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)
      expect(refs.length).toBeGreaterThanOrEqual(5)
      for (const ref of refs) {
        // Resolved as a browser would: same origin, under /docs/static/.
        const resolved = new URL(ref, `http://127.0.0.1:8080${page}`)
        expect(resolved.origin, ref).toBe('http://127.0.0.1:8080')
        expect(resolved.pathname, ref).toMatch(/^\/docs\/static\//)
        const asset = await app.inject({ method: 'GET', url: resolved.pathname })
        expect(asset.statusCode, ref).toBe(200)
        expect(asset.body.length, ref).toBeGreaterThan(0)
      }
    }
  })

  it('the UI initializer loads the document from /docs/json and asks no validator on the internet', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' })
    expect(res.statusCode).toBe(200)
    expect(res.body).toContain("resolveUrl('./json')")
    expect(res.body).toContain('validatorUrl: null')
  })
})
