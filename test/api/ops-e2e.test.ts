import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { uuid7, type TrackedEvent } from '../../src/events/index.ts'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { startTestServer, type TestServer } from './harness.ts'

// The real server (embedded log, engine thread, HTTP on a port) seen from outside, as a probe,
// a Prometheus scraper and a browser would.

let s: TestServer
beforeAll(async () => {
  s = await startTestServer()
})
afterAll(async () => {
  await s?.close()
})

/**
 * One sample line of the Prometheus text format: name, optional labels, a number. NaN and Inf in
 * any case: Prometheus parses values with Go's ParseFloat, and prom-client writes NaN as "Nan".
 */
const SAMPLE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?[iI][nN][fF]|[nN][aA][nN])( -?\d+)?$/
const COMMENT = /^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))$/

interface Scrape {
  text: string
  samples: Map<string, number>
  types: Map<string, string>
}

async function scrape(): Promise<Scrape> {
  const res = await fetch(`${s.url}/metrics`)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  const text = await res.text()
  const samples = new Map<string, number>()
  const types = new Map<string, string>()
  for (const line of text.split('\n')) {
    if (line === '') continue
    if (line.startsWith('#')) {
      expect(line).toMatch(COMMENT)
      const m = /^# TYPE (\S+) (\S+)$/.exec(line)
      if (m) types.set(m[1]!, m[2]!)
      continue
    }
    expect(line).toMatch(SAMPLE)
    const at = line.lastIndexOf(' ')
    samples.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return { text, samples, types }
}

function event(name: string, userId: string, ts: number, properties: TrackedEvent['properties'] = {}): TrackedEvent {
  return { event: name, user_id: userId, ts, event_id: uuid7(ts), tenant: 'default', received_at: Date.now(), properties }
}

/** Routes as Fastify has them, from printRoutes' tree: `path -> methods` (HEAD left out). */
function registeredRoutes(): Map<string, string[]> {
  const routes = new Map<string, string[]>()
  const stack: string[] = []
  for (const line of s.server.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│├└─\s]*)(\S.*?) \(([A-Z, ]+)\)$/.exec(line)
    if (!m) continue
    const depth = m[1]!.length / 4
    stack.length = depth
    stack.push(m[2]!)
    const methods = m[3]!.split(', ').filter((x) => x !== 'HEAD')
    if (methods.length > 0) routes.set(stack.join(''), methods)
  }
  return routes
}

describe('health and readiness', () => {
  it('GET /healthz answers ok', async () => {
    const res = await fetch(`${s.url}/healthz`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok' })
  })

  it('GET /readyz becomes 200 with the lag and the partition count', async () => {
    await expect.poll(async () => (await fetch(`${s.url}/readyz`)).status, { timeout: 15_000, interval: 100 }).toBe(200)
    const res = await fetch(`${s.url}/readyz`)
    const body = (await res.json()) as { status: string; lag: number; partitions: number }
    expect(body).toEqual({ status: 'ready', lag: expect.any(Number), partitions: 4 })
    expect(body.lag).toBeGreaterThanOrEqual(0)
  })
})

describe('GET /metrics', () => {
  it('is Prometheus text naming every tagstream metric with its type', async () => {
    const { types } = await scrape()
    const expected: Record<string, string> = {
      tagstream_ingest_events_total: 'counter',
      tagstream_ingest_bytes_total: 'counter',
      tagstream_rejected_events_total: 'counter',
      tagstream_duplicate_events_total: 'counter',
      tagstream_rejected_requests_total: 'counter',
      tagstream_backpressure_total: 'counter',
      tagstream_http_request_duration_seconds: 'histogram',
      tagstream_engine_lag_events: 'gauge',
      tagstream_engine_processed_events: 'gauge',
      tagstream_engine_late_events: 'gauge',
      tagstream_engine_late_dropped_events: 'gauge',
      tagstream_segment_members: 'gauge',
      tagstream_segment_changes: 'gauge',
      tagstream_notifications: 'gauge',
      tagstream_webhook_deliveries_total: 'counter',
      tagstream_process_resident_memory_bytes: 'gauge',
      tagstream_nodejs_eventloop_lag_p99_seconds: 'gauge',
    }
    for (const [name, type] of Object.entries(expected)) expect(types.get(name), name).toBe(type)
  })

  it('follows the engine: processed events, lag, segment members, changes and notifications', async () => {
    const before = (await scrape()).samples
    expect(before.get('tagstream_segment_members{segment="spinner"}')).toBe(0)
    expect(before.get('tagstream_segment_members{segment="buyer"}')).toBe(0)
    for (const p of [0, 1, 2, 3]) expect(before.has(`tagstream_engine_lag_events{partition="${p}"}`), `partition ${p}`).toBe(true)
    const processed = before.get('tagstream_engine_processed_events') ?? 0

    const t = Date.now()
    await appendEvents(s.ctx.log, [event('spin', 'ops-u1', t - 3_000), event('spin', 'ops-u1', t - 2_000), event('spin', 'ops-u1', t - 1_000), event('add_to_cart', 'ops-u1', t)], s.ctx.partitions)
    // Generous: the engine thread shares two cores with the other test files.
    await expect.poll(async () => (await scrape()).samples.get('tagstream_engine_processed_events'), { timeout: 30_000, interval: 100 }).toBe(processed + 4)
    const after = (await scrape()).samples
    expect(after.get('tagstream_segment_members{segment="spinner"}')).toBe(1)
    expect(after.get('tagstream_segment_members{segment="buyer"}')).toBe(0)
    expect(after.get('tagstream_segment_changes')).toBeGreaterThanOrEqual(1)
    expect(after.get('tagstream_notifications')).toBeGreaterThanOrEqual(1)
    let lag = 0
    for (const [k, v] of after) if (k.startsWith('tagstream_engine_lag_events{')) lag += v
    expect(lag).toBe(0)
  })

  it('counts requests in the duration histogram by route pattern, method and status', async () => {
    const key = (route: string, status: number) => `tagstream_http_request_duration_seconds_count{route="${route}",method="GET",status="${status}"}`
    const before = (await scrape()).samples
    for (let i = 0; i < 3; i++) await (await fetch(`${s.url}/healthz`)).text()
    await (await fetch(`${s.url}/v1/no-such-route/123`)).text()
    await (await fetch(`${s.url}/v1/profiles/someone`)).text() // 401: no key
    await expect.poll(async () => (await scrape()).samples.get(key('/healthz', 200)), { timeout: 5_000, interval: 50 }).toBe((before.get(key('/healthz', 200)) ?? 0) + 3)
    const after = (await scrape()).samples
    expect(after.get(key('unmatched', 404))).toBe((before.get(key('unmatched', 404)) ?? 0) + 1)
    expect(after.get(key('/v1/profiles/:user_id', 401))).toBe((before.get(key('/v1/profiles/:user_id', 401)) ?? 0) + 1)
    // Buckets are cumulative and end with +Inf = count.
    expect(after.get(`tagstream_http_request_duration_seconds_bucket{le="+Inf",route="/healthz",method="GET",status="200"}`)).toBe(after.get(key('/healthz', 200)))
    // Raw URLs never become labels.
    expect([...after.keys()].some((k) => k.includes('no-such-route') || k.includes('someone'))).toBe(false)
  })
})

describe('OpenAPI and the /docs UI', () => {
  interface Operation {
    summary?: string
    responses?: Record<string, unknown>
    parameters?: Array<{ in: string; name: string }>
  }
  interface OpenApiDoc {
    openapi: string
    info: { title: string; version: string }
    paths: Record<string, Record<string, Operation>>
    components: { securitySchemes: Record<string, unknown> }
  }

  it('GET /docs/json is an OpenAPI 3 document listing every route the server has', async () => {
    const res = await fetch(`${s.url}/docs/json`)
    expect(res.status).toBe(200)
    const doc = (await res.json()) as OpenApiDoc
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/)
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    expect(doc.info).toMatchObject({ title: 'tagstream', version: pkg.version })
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['apiKeyHeader', 'bearerAuth'])

    // Every operation is well formed: OpenAPI path syntax, declared path parameters, responses.
    for (const [path, item] of Object.entries(doc.paths)) {
      expect(path).toMatch(/^\//)
      expect(path, 'Fastify :params must be converted to {params}').not.toContain(':')
      for (const [method, op] of Object.entries(item)) {
        expect(['get', 'put', 'post', 'delete', 'patch', 'options', 'head']).toContain(method)
        expect(Object.keys(op.responses ?? {}).length, `${method} ${path}`).toBeGreaterThan(0)
        for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
          expect(
            op.parameters?.some((p) => p.in === 'path' && p.name === name),
            `${method} ${path} declares {${name}}`,
          ).toBe(true)
        }
      }
    }

    // Documented = registered, both ways (the UI's own routes are hidden on purpose, and so are
    // PostHog's trailing-slash spellings, /batch/ and /capture/, which answer as /batch and /capture).
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`)))
    const registered = new Set<string>()
    const routes = registeredRoutes()
    for (const [path, methods] of routes) {
      if (path === '/docs' || path.startsWith('/docs/')) continue
      if (path.length > 1 && path.endsWith('/') && routes.has(path.slice(0, -1))) continue
      // CORS preflights (OPTIONS on the collector's routes) are answered for browsers, not operations of their own.
      for (const m of methods) if (m !== 'OPTIONS') registered.add(`${m} ${path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`)
    }
    for (const r of ['GET /healthz', 'GET /readyz', 'GET /metrics']) expect(registered.has(r), r).toBe(true)
    expect([...documented].sort()).toEqual([...registered].sort())
  })

  it('GET /docs serves HTML whose every asset is local and loads', async () => {
    for (const page of ['/docs', '/docs/']) {
      const res = await fetch(`${s.url}${page}`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/html/)
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'")
      const html = await res.text()
      expect(html).not.toMatch(/https?:\/\//)
      const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)
      expect(refs.length).toBeGreaterThanOrEqual(5)
      for (const ref of refs) {
        const url = new URL(ref, `${s.url}${page}`)
        expect(url.origin, ref).toBe(new URL(s.url).origin)
        expect(url.pathname, ref).toMatch(/^\/docs\/static\//)
        const asset = await fetch(url)
        expect(asset.status, ref).toBe(200)
        expect((await asset.arrayBuffer()).byteLength, ref).toBeGreaterThan(0)
      }
    }
  })
})
