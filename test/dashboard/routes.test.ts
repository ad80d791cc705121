import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { connect } from 'node:net'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LiveHello, LiveSample } from '../../src/api/dashboard/index.ts'
import { createDashboardRoutes } from '../../src/api/routes/dashboard.ts'
import { Tail } from '../api/sse-tail.ts'
import { auth, startTestServer, type TestServer } from '../api/harness.ts'

// The dashboard's routes on the real server: the static bundle (a stand-in bundle written here,
// so these tests do not depend on a Vite build), the live stats stream, and the read-only routes
// the dashboard adds.

const web = mkdtempSync(join(tmpdir(), 'tagstream-web-'))
const INDEX = '<!doctype html><title>tagstream</title><script type="module" src="/assets/index-AbC123.js"></script>'
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(2000))})\n`
mkdirSync(join(web, 'assets'))
writeFileSync(join(web, 'index.html'), INDEX)
writeFileSync(join(web, 'assets', 'index-AbC123.js'), SCRIPT)
writeFileSync(join(web, 'assets', 'logo-9z.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]))

let s: TestServer
beforeAll(async () => {
  s = await startTestServer({ webDir: web })
})
afterAll(async () => {
  await s?.close()
  rmSync(web, { recursive: true, force: true })
})

async function post(events: unknown[], key = s.keys.write): Promise<void> {
  const res = await fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: JSON.stringify(events) })
  expect(res.status, await res.clone().text()).toBeLessThan(300)
}

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await get()
    if (ok(v)) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v).slice(0, 300)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** A GET sent byte for byte: fetch (and inject) would resolve `%2e%2e` before it left the client. */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(s.url)
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname, () => sock.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`))
    let text = ''
    sock.setEncoding('utf8')
    sock.on('data', (d: string) => (text += d))
    sock.on('error', reject)
    sock.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) }))
  })
}

function openLive(key: string | null): Promise<{ res: Response; tail: Tail | null }> {
  const ac = new AbortController()
  return fetch(`${s.url}/v1/dashboard/live`, { headers: key === null ? {} : auth(key), signal: ac.signal }).then((res) => ({ res, tail: res.ok ? new Tail(res, ac) : null }))
}

describe('static bundle', () => {
  it('GET / serves index.html with a strict CSP, revalidated on every load', async () => {
    const res = await fetch(`${s.url}/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('no-cache')
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'")
    expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'")
    expect(await res.text()).toBe(INDEX)
    const etag = res.headers.get('etag')
    expect(etag).toMatch(/^W\/".+"$/)
    const again = await fetch(`${s.url}/`, { headers: { 'if-none-match': etag! } })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
  })

  it('assets are served with their content type, gzipped when asked, cached for a year', async () => {
    const res = await fetch(`${s.url}/assets/index-AbC123.js`, { headers: { 'accept-encoding': 'gzip' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(res.headers.get('content-encoding')).toBe('gzip')
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(res.headers.get('vary')).toContain('accept-encoding')
    expect(await res.text()).toBe(SCRIPT)
    const plain = await fetch(`${s.url}/assets/index-AbC123.js`, { headers: { 'accept-encoding': 'identity' } })
    expect(plain.headers.get('content-encoding')).toBeNull()
    expect(Number(plain.headers.get('content-length'))).toBe(Buffer.byteLength(SCRIPT))
    const png = await fetch(`${s.url}/assets/logo-9z.png`, { headers: { 'accept-encoding': 'gzip' } })
    expect(png.headers.get('content-type')).toBe('image/png')
    expect(png.headers.get('content-encoding')).toBeNull()
  })

  it('a missing asset is a 404 naming it; nothing outside the bundle can be reached', async () => {
    const res = await fetch(`${s.url}/assets/index-nope.js`)
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no dashboard asset "index-nope.js"' } })
    for (const path of ['/assets/..%2F..%2F..%2Fpackage.json', '/assets/%2e%2e', '/assets/%2e%2e%2findex.html', '/assets/.hidden.js', '/assets/..%5Cindex.html']) {
      const r = await rawGet(path)
      expect(r.status, path).toBe(404)
      expect(r.body, path).toContain('"code":"not_found"')
    }
    const other = await fetch(`${s.url}/index.html`)
    expect(other.status).toBe(404)
    expect(await other.json()).toEqual({ error: { code: 'not_found', message: 'no route GET /index.html' } })
  })

  it('without a bundle, / answers 503 with the command to build it, and the log says so at start', async () => {
    const lines: string[] = []
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, cb) => (lines.push(chunk.toString()), cb()) }))
    const empty = mkdtempSync(join(tmpdir(), 'tagstream-noweb-'))
    const app = Fastify()
    await createDashboardRoutes({ dir: empty })(app, { ...s.ctx, logger })
    try {
      const warn = lines.map((l) => JSON.parse(l) as { level: number; msg: string; dir: string }).find((l) => l.msg.includes('bundle missing'))
      expect(warn).toMatchObject({ level: 40, dir: empty })
      expect(warn!.msg).toContain('npm run build:web')
      const res = await app.inject({ method: 'GET', url: '/' })
      expect(res.statusCode).toBe(503)
      expect(res.json()).toEqual({ error: { code: 'dashboard_not_built', message: `the dashboard bundle is missing (${empty}/index.html); run "npm run build:web"` } })
    } finally {
      await app.close()
      rmSync(empty, { recursive: true, force: true })
    }
  })
})

describe('live stats stream', () => {
  it('needs a key with the read scope', async () => {
    const none = await openLive(null)
    expect(none.res.status).toBe(401)
    const writeOnly = await openLive(s.keys.write)
    expect(writeOnly.res.status).toBe(403)
    expect(((await writeOnly.res.json()) as { error: { code: string } }).error.code).toBe('forbidden')
  })

  it('sends the history, then a sample a second: rates move with traffic, per tenant', async () => {
    const { res, tail } = await openLive(s.keys.read)
    const acme = (await openLive(s.keys.acme)).tail!
    try {
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
      await tail!.until('hello', () => tail!.events.length >= 1)
      const hello = tail!.events[0]!
      expect(hello.event).toBe('hello')
      const h = hello.record as unknown as LiveHello
      expect(h.interval_ms).toBe(1000)
      expect(h.partitions).toBe(4)
      expect(Array.isArray(h.history)).toBe(true)

      const samples = () => tail!.events.filter((e) => e.event === 'sample').map((e) => e.record as unknown as LiveSample)
      await tail!.until('a sample', () => samples().length >= 1, 5_000)
      const first = samples()[0]!
      expect(first.lag).toHaveLength(4)
      expect(Object.keys(first.segments).sort()).toEqual(['buyer', 'spinner'])

      const before = first.events_total
      const ts = Date.now()
      await post(Array.from({ length: 30 }, (_, i) => ({ event: 'spin', user_id: `live-${i % 3}`, ts: ts + i })))
      await post([{ event: 'spin', user_id: 'x', ts: 'yesterday' }])
      await tail!.until('a sample with the events', () => samples().some((x) => x.events_total >= before + 30 && x.rejected_total >= 1), 5_000)
      const moved = samples().find((x) => x.events_total >= before + 30)!
      expect(moved.events_per_sec).toBeGreaterThan(0)
      expect(moved.bytes_per_sec).toBeGreaterThan(0)
      // Three users with ten spins each: all three are in `spinner` once the engine has caught up.
      await tail!.until('spinner members', () => (samples().at(-1)?.segments.spinner ?? 0) >= 3, 5_000)
      expect(samples().some((x) => x.processed_per_sec > 0)).toBe(true)

      // The other tenant's stream sees none of it.
      await acme.until('acme samples', () => acme.events.filter((e) => e.event === 'sample').length >= 2, 5_000)
      for (const e of acme.events.filter((x) => x.event === 'sample')) {
        const x = e.record as unknown as LiveSample
        expect(x.events_total).toBe(0)
        expect(x.segments.spinner).toBe(0)
      }
    } finally {
      tail?.close()
      acme.close()
    }
  })

  it('a client connecting later gets the retained history first', async () => {
    // The sampler keeps one sample a second: on a fast machine the tests above may end before it
    // has three, so connect again (a later client) until it has.
    let { tail } = await openLive(s.keys.read)
    for (const deadline = Date.now() + 5_000; ;) {
      await tail!.until('hello', () => tail!.events.length >= 1)
      if ((tail!.events[0]!.record as unknown as LiveHello).history.length > 2 || Date.now() > deadline) break
      tail!.close()
      await new Promise((r) => setTimeout(r, 500))
      ;({ tail } = await openLive(s.keys.read))
    }
    try {
      const h = tail!.events[0]!.record as unknown as LiveHello
      expect(h.history.length).toBeGreaterThan(2)
      const ts = h.history.map((x) => x.t)
      expect([...ts].sort((a, b) => a - b)).toEqual(ts)
      expect(h.history.some((x) => x.events_total >= 30)).toBe(true)
    } finally {
      tail?.close()
    }
  })

  it('refuses streams beyond the limit with 503', async () => {
    const app = Fastify()
    await createDashboardRoutes({ dir: web, maxLiveClients: 1, sampler: { intervalMs: 50 } })(app, s.ctx)
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    const ac = new AbortController()
    try {
      const one = await fetch(`${url}/v1/dashboard/live`, { headers: auth(s.keys.read), signal: ac.signal })
      expect(one.status).toBe(200)
      const two = await fetch(`${url}/v1/dashboard/live`, { headers: auth(s.keys.read) })
      expect(two.status).toBe(503)
      expect(((await two.json()) as { error: { code: string; message: string } }).error).toEqual({
        code: 'too_many_streams',
        message: 'the server has 1 dashboard live streams open (server-wide cap 1); retry later',
      })
    } finally {
      ac.abort()
      await app.close()
    }
  })
})

describe('recent segment changes', () => {
  it("returns the tenant's latest changes and a cursor the stream continues from, with nothing repeated", async () => {
    const ts = Date.now()
    await post(Array.from({ length: 3 }, (_, i) => ({ event: 'spin', user_id: 'feed-a', ts: ts + i })))
    const recent = await until(
      'feed-a entered',
      async () => (await (await fetch(`${s.url}/v1/dashboard/recent-changes?limit=500`, { headers: auth(s.keys.read) })).json()) as { changes: Array<Record<string, unknown>>; cursor: string },
      (r) => r.changes.some((c) => c.user_id === 'feed-a'),
    )
    expect(recent.cursor).toMatch(/^v1\.s(\.[0-9a-z]+){4}$/)
    const mine = recent.changes.find((c) => c.user_id === 'feed-a')!
    expect(mine).toMatchObject({ segment: 'spinner', change: 'entered', tenant: 'default' })
    const ats = recent.changes.map((c) => c.at as number)
    expect([...ats].sort((a, b) => a - b)).toEqual(ats)

    const limited = (await (await fetch(`${s.url}/v1/dashboard/recent-changes?limit=1`, { headers: auth(s.keys.read) })).json()) as { changes: unknown[] }
    expect(limited.changes).toHaveLength(1)
    const filtered = (await (await fetch(`${s.url}/v1/dashboard/recent-changes?segment=buyer`, { headers: auth(s.keys.read) })).json()) as { changes: unknown[] }
    expect(filtered.changes).toEqual([])
    const acme = (await (await fetch(`${s.url}/v1/dashboard/recent-changes`, { headers: auth(s.keys.acme) })).json()) as { changes: unknown[] }
    expect(acme.changes).toEqual([])

    const ac = new AbortController()
    const res = await fetch(`${s.url}/v1/segment-changes?from=${recent.cursor}`, { headers: auth(s.keys.read), signal: ac.signal })
    const tail = new Tail(res, ac)
    try {
      await post(Array.from({ length: 3 }, (_, i) => ({ event: 'spin', user_id: 'feed-b', ts: ts + 10 + i })))
      await tail.untilEvents(1)
      expect(tail.events[0]!.record).toMatchObject({ user_id: 'feed-b', change: 'entered' })
    } finally {
      tail.close()
    }
  })

  it('rejects a bad limit and a missing key', async () => {
    const bad = await fetch(`${s.url}/v1/dashboard/recent-changes?limit=0`, { headers: auth(s.keys.read) })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toEqual({ error: { code: 'invalid_query', message: 'limit must be an integer from 1 to 500, got "0"', field: 'limit' } })
    expect((await fetch(`${s.url}/v1/dashboard/recent-changes`)).status).toBe(401)
  })
})

describe("a user's recent events", () => {
  it('lists the latest events newest first, with their properties, only for that user and tenant', async () => {
    const ts = Date.now() - 60_000
    await post([
      { event: 'login', user_id: 'ev-1', ts, country: 'TR' },
      { event: 'spin', user_id: 'ev-2', ts: ts + 1 },
      { event: 'purchase', user_id: 'ev-1', ts: ts + 2, amount: 4.99, item: 'sword' },
    ])
    type Body = { events: Array<{ event: string; ts: number; properties: Record<string, unknown> }>; partition: number; complete: boolean }
    const body = (await (await fetch(`${s.url}/v1/dashboard/profiles/ev-1/events`, { headers: auth(s.keys.read) })).json()) as Body
    expect(body.events.map((e) => e.event)).toEqual(['purchase', 'login'])
    expect(body.events[0]).toMatchObject({ ts: ts + 2, properties: { amount: 4.99, item: 'sword' } })
    expect(body.complete).toBe(true)
    const one = (await (await fetch(`${s.url}/v1/dashboard/profiles/ev-1/events?limit=1`, { headers: auth(s.keys.read) })).json()) as Body
    expect(one.events.map((e) => e.event)).toEqual(['purchase'])
    const other = (await (await fetch(`${s.url}/v1/dashboard/profiles/ev-1/events`, { headers: auth(s.keys.acme) })).json()) as Body
    expect(other.events).toEqual([])
  })

  it('rejects a bad limit and a missing key', async () => {
    const bad = await fetch(`${s.url}/v1/dashboard/profiles/ev-1/events?limit=101`, { headers: auth(s.keys.read) })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('limit')
    expect((await fetch(`${s.url}/v1/dashboard/profiles/ev-1/events`)).status).toBe(401)
  })
})

describe('segment validation', () => {
  const validate = (name: string, body: unknown, key = s.keys.read) =>
    fetch(`${s.url}/v1/dashboard/segments/${name}/validate`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: JSON.stringify(body) })

  it('accepts a good rule and names the metrics it keeps, without applying it', async () => {
    const res = await validate('whale', { when: 'sum(purchase.amount, 7d) > 100 and count(spin, 120m) >= 1', keep: '3m' })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ valid: true, metrics: ['sum(purchase.amount, 7d)', 'count(spin, 2h)'] })
    const segments = (await (await fetch(`${s.url}/v1/segments`, { headers: auth(s.keys.read) })).json()) as { segments: Array<{ name: string }> }
    expect(segments.segments.map((x) => x.name)).not.toContain('whale')
  })

  it('answers a bad rule with the line and column PUT /v1/segments/:id answers with', async () => {
    const body = { when: 'count(spin, 1h) >= 3 and\n  sum(purchase.amount, 2x) > 1' }
    const res = await validate('bad_one', body)
    expect(res.status).toBe(400)
    const err = (await res.json()) as { error: { code: string; line: number; column: number; field: string; message: string } }
    expect(err.error).toMatchObject({ code: 'invalid_rule', field: 'when', line: 2 })
    expect(err.error.message).toMatch(/^segments\.bad_one\.when: line 2, column \d+: /)
    const put = await fetch(`${s.url}/v1/segments/bad_one`, { method: 'PUT', headers: { ...auth(s.keys.operator), 'content-type': 'application/json' }, body: JSON.stringify(body) })
    expect(put.status).toBe(400)
    expect(await put.json()).toEqual(err)
  })

  it('names the field at fault: the segment name, keep, a missing when', async () => {
    const name = await validate('9bad name', { when: 'count(spin) > 1' })
    expect(name.status).toBe(400)
    expect(((await name.json()) as { error: { field: string } }).error.field).toBe('name')
    const keep = await validate('k', { when: 'count(spin) > 1', keep: 'soon' })
    expect(keep.status).toBe(400)
    expect(((await keep.json()) as { error: { field: string; message: string } }).error).toMatchObject({ field: 'keep' })
    const missing = await validate('k', { keep: '3m' })
    expect(missing.status).toBe(400)
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('invalid_request')
    expect((await validate('k', { when: 'count(spin) > 1' }, s.keys.write)).status).toBe(403)
  })
})

describe('OpenAPI', () => {
  it('documents the dashboard routes', async () => {
    const doc = (await (await fetch(`${s.url}/docs/json`)).json()) as { paths: Record<string, Record<string, { tags?: string[]; responses?: object }>> }
    for (const [path, method] of [
      ['/', 'get'],
      ['/assets/{file}', 'get'],
      ['/v1/dashboard/live', 'get'],
      ['/v1/dashboard/recent-changes', 'get'],
      ['/v1/dashboard/profiles/{user_id}/events', 'get'],
      ['/v1/dashboard/segments/{id}/validate', 'post'],
    ] as const) {
      const op = doc.paths[path]?.[method]
      expect(op, `${method} ${path}`).toBeDefined()
      expect(op!.tags).toEqual(['dashboard'])
      expect(Object.keys(op!.responses ?? {}).length).toBeGreaterThan(0)
    }
  })
})
