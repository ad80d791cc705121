import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { until } from '../support/until.ts'
import { auth, useTestServer } from './harness.ts'
import { createAjv, documentedResponse, fetchDocument, type OpenApiDocument } from './openapi-document.ts'

/*
 * Every operation of the served OpenAPI document is called on a real server, with a valid request and
 * with at least one refused request per route family, and each answer is checked against the
 * document: its status must be one the operation lists, its media type one that response lists, and
 * a JSON body must match that response's schema. A route answering anything the document does not
 * describe fails here; so does an operation nobody called (a route added without a case below).
 */

/** A small dashboard bundle, so GET / and GET /assets/{file} answer 200 whatever web/dist holds. */
const webDir = mkdtempSync(join(tmpdir(), 'tagstream-openapi-web-'))
mkdirSync(join(webDir, 'assets'))
writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>t</title>')
writeFileSync(join(webDir, 'assets', 'app-abc123.js'), 'console.log(1)\n')

interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** The document's path template, e.g. `/v1/segments/{id}`. */
  path: string
  /** The URL path and query actually requested. */
  url: string
  key?: string
  body?: string
  contentType?: string
  headers?: Record<string, string>
  /** The status this case is meant to get (the document must list it too). */
  status: number
  /** Server-Sent Events: read the status and headers, then hang up. */
  stream?: boolean
}

describe('every route answers as the OpenAPI document says', () => {
  const s = useTestServer({ webDir })
  let doc: OpenApiDocument
  const ajv = createAjv()
  const called = new Set<string>()

  beforeAll(async () => {
    doc = await fetchDocument(s.url)
  })
  afterAll(() => {
    rmSync(webDir, { recursive: true, force: true })
  })

  /** Sends the call and checks its answer against the document; returns the parsed JSON body, if any. */
  async function check(c: Call): Promise<unknown> {
    const name = `${c.method} ${c.path}`
    const op = doc.paths[c.path]?.[c.method.toLowerCase()]
    expect(op, `${name} is in the document`).toBeDefined()
    called.add(name)
    const headers: Record<string, string> = { ...(c.key === undefined ? {} : auth(c.key)), ...c.headers }
    if (c.body !== undefined) headers['content-type'] = c.contentType ?? 'application/json'
    const abort = new AbortController()
    const res = await fetch(`${s.url}${c.url}`, { method: c.method, headers, body: c.body, signal: abort.signal })
    const text = c.stream && res.status === 200 ? '' : await res.text()
    abort.abort()
    const what = `${name} (${c.url}) answered ${res.status} ${text.slice(0, 300)}`
    expect(res.status, what).toBe(c.status)

    const documented = documentedResponse(op!, res.status)
    expect(documented, `${what}: the document lists no ${res.status} for ${name}`).toBeDefined()
    if (documented!.content === undefined) {
      expect(text, `${what}: the document says no body`).toBe('')
      return undefined
    }
    const media = (res.headers.get('content-type') ?? '').split(';')[0]!.trim()
    expect(Object.keys(documented!.content), `${what}: media type ${media}`).toContain(media)
    if (media !== 'application/json') return undefined
    const body: unknown = JSON.parse(text)
    const validate = ajv.compile(documented!.content[media]!.schema ?? {})
    expect(validate(body) ? [] : validate.errors, `${what}: body against the documented ${res.status} schema`).toEqual([])
    return body
  }

  const json = (value: unknown) => JSON.stringify(value)

  it('operations (no key)', async () => {
    await check({ method: 'GET', path: '/healthz', url: '/healthz', status: 200 })
    await check({ method: 'GET', path: '/readyz', url: '/readyz', status: 200 })
    await check({ method: 'GET', path: '/metrics', url: '/metrics', status: 200 })
  })

  it('the dashboard', async () => {
    const { read, write } = s.keys
    await check({ method: 'GET', path: '/', url: '/', status: 200 })
    await check({ method: 'GET', path: '/assets/{file}', url: '/assets/app-abc123.js', status: 200 })
    await check({ method: 'GET', path: '/assets/{file}', url: '/assets/missing.js', status: 404 })
    await check({ method: 'GET', path: '/v1/dashboard/live', url: '/v1/dashboard/live', key: read, status: 200, stream: true })
    await check({ method: 'GET', path: '/v1/dashboard/live', url: '/v1/dashboard/live', status: 401 })
    await check({ method: 'GET', path: '/v1/dashboard/recent-changes', url: '/v1/dashboard/recent-changes?limit=5', key: read, status: 200 })
    await check({ method: 'GET', path: '/v1/dashboard/recent-changes', url: '/v1/dashboard/recent-changes?limit=0', key: read, status: 400 })
    await check({ method: 'GET', path: '/v1/dashboard/profiles/{user_id}/events', url: '/v1/dashboard/profiles/u1/events', key: read, status: 200 })
    await check({ method: 'GET', path: '/v1/dashboard/profiles/{user_id}/events', url: '/v1/dashboard/profiles/u1/events', key: write, status: 403 })
    const validate = (body: unknown, status: number) =>
      check({ method: 'POST', path: '/v1/dashboard/segments/{id}/validate', url: '/v1/dashboard/segments/s1/validate', key: read, body: json(body), status })
    await validate({ when: 'count(spin, 1h) >= 2' }, 200)
    await validate({ when: 'count(spin, 1h) >=' }, 400)
    await validate({ keep: '1h' }, 400)
  })

  it('the collector and dead letters', async () => {
    const { write, read } = s.keys
    const events = (body: string, status: number, contentType = 'application/json', key: string = write) =>
      check({ method: 'POST', path: '/v1/events', url: '/v1/events', key, body, contentType, status })
    const spins = [1, 2, 3].map((i) => ({ event: 'spin', user_id: 'u1', event_id: `spin-${i}` }))
    await events(json([...spins, { event: 'add_to_cart', user_id: 'u1', item: 'sword' }, { user_id: 'u2' }]), 200)
    await events(json({ batch: [{ event: 'spin', user_id: 'u2' }], sent_at: Date.now() }), 200)
    await events(`${json({ event: 'spin', user_id: 'u3' })}\n${json({ event: 'spin', user_id: 'u3' })}\n`, 200, 'application/x-ndjson')
    await events('[{"event":', 400)
    await events(json(spins), 401, 'application/json', 'no-such-key')
    await events(json(spins), 403, 'application/json', read)
    await events('event=spin', 415, 'text/plain')
    await events(json(Array.from({ length: 10_001 }, () => ({ event: 'spin', user_id: 'u9' }))), 413)
    const track = (body: unknown, status: number) => check({ method: 'POST', path: '/v1/track', url: '/v1/track', key: write, body: json(body), status })
    await track({ event: 'spin', user_id: 'u4' }, 200)
    await track({ user_id: 'u4' }, 400)

    await track({ userId: 'u4', event: 'spin', messageId: 'seg-track-1' }, 200)

    // The Segment spec's routes: every path, one good call each (text/plain, as browsers send), and refusals.
    const segment = (path: string, body: unknown, status: number, key: string = write) =>
      check({ method: 'POST', path, url: path, key, body: typeof body === 'string' ? body : json(body), contentType: 'text/plain', status })
    const calls: Record<string, unknown> = {
      identify: { userId: 'u5', traits: { plan: 'pro' } },
      page: { userId: 'u5', name: 'Home' },
      screen: { userId: 'u5', name: 'Main' },
      group: { userId: 'u5', groupId: 'g1' },
      alias: { userId: 'u5', previousId: 'd5' },
      track: { userId: 'u5', event: 'spin' },
    }
    for (const path of ['/v1/batch', '/v1/import', '/v1/b']) {
      await segment(
        path,
        {
          batch: [
            { type: 'track', userId: 'u5', event: 'spin' },
            { type: 'nope', userId: 'u5' },
          ],
          sentAt: new Date().toISOString(),
        },
        200,
      )
    }
    await segment('/v1/batch', '{"batch":', 400)
    await segment('/v1/batch', { batch: [] }, 401, 'no-such-key')
    await segment('/v1/batch', { batch: [] }, 403, read)
    await segment('/v1/batch', { batch: Array.from({ length: 10_001 }, () => ({ type: 'track', userId: 'u9', event: 'spin' })) }, 413)
    for (const [type, body] of Object.entries(calls)) {
      const short = `/v1/${type[0]}`
      if (type !== 'track') await segment(`/v1/${type}`, body, 200)
      await segment(short, body, 200)
      await segment(short, { event: 'spin' }, 400)
    }

    // analytics-next's settings document: the write key is in the path.
    await check({ method: 'GET', path: '/v1/projects/{writeKey}/settings', url: `/v1/projects/${write}/settings`, status: 200 })
    await check({ method: 'GET', path: '/v1/projects/{writeKey}/settings', url: `/v1/projects/${read}/settings`, status: 404 })

    // PostHog's capture API: the key is in the body.
    const posthog = (path: string, body: unknown, status: number) => check({ method: 'POST', path, url: path, body: json(body), status })
    await posthog('/batch', { api_key: write, batch: [{ event: 'spin', distinct_id: 'u6' }] }, 200)
    await posthog('/batch', { batch: [] }, 401)
    await posthog('/capture', { api_key: write, event: 'spin', distinct_id: 'u6' }, 200)
    await posthog('/capture', { api_key: read, event: 'spin', distinct_id: 'u6' }, 403)
    await posthog('/capture', { api_key: write, batch: 1 }, 400)

    const letters = (query: string, status: number) => check({ method: 'GET', path: '/v1/dead-letters', url: `/v1/dead-letters${query}`, key: read, status })
    const page = (await letters('?limit=1', 200)) as { dead_letters: unknown[]; next: string | null }
    expect(page.dead_letters.length).toBe(1)
    if (page.next !== null) await letters(`?limit=1&cursor=${page.next}`, 200)
    await letters('?colour=red', 400)
  })

  it('profiles and segments', async () => {
    const { read, write, operator } = s.keys
    await until('u1 in spinner', async () => {
      const r = await fetch(`${s.url}/v1/profiles/u1`, { headers: auth(read) })
      return r.status === 200 && ((await r.json()) as { segments: unknown[] }).segments.length > 0
    })
    const get = (path: string, url: string, status: number, key: string = read) => check({ method: 'GET', path, url, key, status })
    await get('/v1/profiles/{user_id}', '/v1/profiles/u1', 200)
    await get('/v1/profiles/{user_id}', '/v1/profiles/nobody', 404)
    const exportOf = (url: string, status: number, key: string = operator) => get('/v1/profiles/{user_id}/export', url, status, key)
    await exportOf('/v1/profiles/u1/export', 200)
    await exportOf('/v1/profiles/nobody/export', 404)
    await exportOf('/v1/profiles/u1/export', 403, read)
    await exportOf(`/v1/profiles/${'x'.repeat(101)}/export`, 414)
    const found = (await get('/v1/profiles', '/v1/profiles?segment=spinner&limit=1', 200)) as { next: string | null }
    if (found.next !== null) await get('/v1/profiles', `/v1/profiles?where=event_count>=1&cursor=${found.next}`, 200)
    await get('/v1/profiles', '/v1/profiles?where=colour:red', 400)
    await get('/v1/profiles', '/v1/profiles?segment=nope', 404)
    await get('/v1/profiles', '/v1/profiles', 403, write)
    await get('/v1/traits', '/v1/traits', 200)
    await get('/v1/traits', '/v1/traits', 403, write)

    await get('/v1/segments', '/v1/segments', 200)
    await get('/v1/segments/{id}', '/v1/segments/spinner', 200)
    await get('/v1/segments/{id}', '/v1/segments/nope', 404)
    await get('/v1/segments/{id}', `/v1/segments/${'x'.repeat(101)}`, 414)
    await get('/v1/segments/{id}/members', '/v1/segments/spinner/members?limit=10', 200)
    await get('/v1/segments/{id}/members', '/v1/segments/spinner/members?cursor=nope', 400)
    await get('/v1/segments/{id}/members', '/v1/segments/nope/members', 404)

    const put = (body: unknown, status: number, key: string = operator) => check({ method: 'PUT', path: '/v1/segments/{id}', url: '/v1/segments/openapi_check', key, body: json(body), status })
    await put({ when: 'count(spin, 1h) >= 5', description: 'checked by the OpenAPI test' }, 200)
    await put({ when: 'count(spin, 1h) >=' }, 400)
    await put({ description: 'no rule' }, 400)
    await put({ when: 'count(spin, 1h) >= 5' }, 403, read)

    // The tenant's own rules as one document, their history, and removing a segment of its own.
    await get('/v1/rules', '/v1/rules', 200)
    await get('/v1/rules', '/v1/rules', 401, 'no-such-key')
    const rules = (body: string, status: number, contentType = 'application/yaml', key: string = operator) =>
      check({ method: 'PUT', path: '/v1/rules', url: '/v1/rules', key, body, contentType, status })
    await rules('segments:\n  openapi_check:\n    when: count(spin, 1h) >= 6\n', 200)
    await rules(json({ segments: { openapi_check: { when: 'count(spin, 1h) >= 7' } } }), 200, 'application/json')
    await rules('segments:\n  x:\n    when: count(spin, 1h) >=\n', 400)
    await rules('segments: {}\n', 403, 'application/yaml', read)
    await rules('x'.repeat(200_000), 413, 'text/plain')
    await rules('segments: {}', 415, 'application/xml')
    await get('/v1/rules/history', '/v1/rules/history?limit=5', 200, operator)
    await get('/v1/rules/history', '/v1/rules/history?limit=0', 400, operator)
    await get('/v1/rules/history', '/v1/rules/history', 403, read)
    const del = (id: string, status: number, key: string = operator) => check({ method: 'DELETE', path: '/v1/segments/{id}', url: `/v1/segments/${id}`, key, status })
    await del('openapi_check', 204)
    await del('openapi_check', 404)
    await del('spinner', 404)
    await del('x'.repeat(101), 414)
    await del('openapi_check', 403, read)

    // Erasing a person, the job, the tenant's jobs and its audit trail (docs/privacy.md).
    const erase = (id: string, status: number, key: string = operator) => check({ method: 'DELETE', path: '/v1/profiles/{user_id}', url: `/v1/profiles/${id}`, key, status })
    const erased = (await erase('u6', 202)) as { job: { id: string } }
    await erase('nobody', 404)
    await erase('u6', 403, read)
    await erase('x'.repeat(101), 414)
    await get('/v1/erasures/{job}', `/v1/erasures/${erased.job.id}`, 200, operator)
    await get('/v1/erasures/{job}', '/v1/erasures/era_nope', 404, operator)
    await get('/v1/erasures/{job}', `/v1/erasures/${erased.job.id}`, 403, read)
    await get('/v1/erasures', '/v1/erasures?limit=5', 200, operator)
    await get('/v1/erasures', '/v1/erasures?limit=0', 400, operator)
    await get('/v1/audit', '/v1/audit', 200, operator)
    await get('/v1/audit', '/v1/audit?limit=x', 400, operator)
    await get('/v1/audit', '/v1/audit', 403, read)
  })

  it('streams', async () => {
    const { read } = s.keys
    await check({ method: 'GET', path: '/v1/segment-changes', url: '/v1/segment-changes?from=earliest&segment=spinner', key: read, status: 200, stream: true })
    await check({ method: 'GET', path: '/v1/segment-changes', url: '/v1/segment-changes?from=not-a-cursor', key: read, status: 400 })
    await check({ method: 'GET', path: '/v1/notifications', url: '/v1/notifications', key: read, status: 200, stream: true })
    await check({ method: 'GET', path: '/v1/notifications', url: '/v1/notifications', status: 401 })
    await check({ method: 'GET', path: '/v1/player-notifications', url: '/v1/player-notifications?trigger=t', key: read, status: 200, stream: true })
    await check({ method: 'GET', path: '/v1/player-notifications', url: '/v1/player-notifications?from=v1.s.0', key: read, status: 400 })
    await check({ method: 'GET', path: '/v1/event-streams', url: '/v1/event-streams', key: read, status: 200 })
    await check({ method: 'GET', path: '/v1/event-streams', url: '/v1/event-streams', status: 401 })
    await check({ method: 'GET', path: '/v1/event-streams/{stream}', url: '/v1/event-streams/buy?event=purchase', key: read, status: 200, stream: true })
    await check({ method: 'GET', path: '/v1/event-streams/{stream}', url: '/v1/event-streams/nope', key: read, status: 404 })
    await check({ method: 'GET', path: '/v1/event-streams/{stream}', url: '/v1/event-streams/buy?from=v1.s.0', key: read, status: 400 })
  })

  it('inboxes', async () => {
    const { read, write } = s.keys
    await check({ method: 'GET', path: '/v1/profiles/{user_id}/inbox', url: '/v1/profiles/u1/inbox?limit=5', key: read, status: 200 })
    await check({ method: 'GET', path: '/v1/profiles/{user_id}/inbox', url: '/v1/profiles/u1/inbox?limit=500', key: read, status: 400 })
    await check({ method: 'GET', path: '/v1/profiles/{user_id}/inbox', url: '/v1/profiles/u1/inbox', key: write, status: 403 })
    await check({ method: 'GET', path: '/v1/profiles/{user_id}/inbox', url: `/v1/profiles/${'x'.repeat(101)}/inbox`, key: read, status: 414 })
    const delivered = (body: string, status: number, key = write) =>
      check({ method: 'POST', path: '/v1/profiles/{user_id}/inbox/delivered', url: '/v1/profiles/u1/inbox/delivered', key, body, status })
    await delivered(JSON.stringify({ ids: ['a:b'] }), 200)
    await delivered(JSON.stringify({ nope: 1 }), 400)
    await delivered(JSON.stringify({ ids: [] }), 403, read)
    await delivered('{', 400)
    await check({ method: 'POST', path: '/v1/profiles/{user_id}/inbox/delivered', url: '/v1/profiles/u1/inbox/delivered', key: write, body: '<ids/>', contentType: 'application/xml', status: 415 })
  })

  it('the warehouse', async () => {
    const { read, operator } = s.keys
    const query = (body: unknown, status: number, key: string = operator) => check({ method: 'POST', path: '/v1/query', url: '/v1/query', key, body: json(body), status })
    await query({ sql: 'SELECT 1 AS one, 2.5 AS two', limit: 10 }, 200)
    await query({ sql: 'DROP TABLE events' }, 400)
    await query({ sql: 'SELECT 1', limit: 0 }, 400)
    await query({ sql: 'SELECT 1' }, 403, read)
    await check({ method: 'POST', path: '/v1/query', url: '/v1/query', key: operator, body: '<sql/>', contentType: 'application/xml', status: 415 })
    await check({ method: 'GET', path: '/v1/reports', url: '/v1/reports', key: read, status: 200 })
    await check({ method: 'GET', path: '/v1/reports/{name}', url: '/v1/reports/events_by_listed_provider?providers=comcast,att', key: read, status: 200 })
    await check({ method: 'GET', path: '/v1/reports/{name}', url: '/v1/reports/popular_events?colour=red', key: read, status: 400 })
    await check({ method: 'GET', path: '/v1/reports/{name}', url: '/v1/reports/nope', key: read, status: 404 })
  })

  it('predictions', async () => {
    const { read, write, operator } = s.keys
    const start = (body: unknown, status: number, key: string = operator) => check({ method: 'POST', path: '/v1/predictions/runs', url: '/v1/predictions/runs', key, body: json(body), status })
    await start({ kind: 'train' }, 403, write)
    await start({ kind: 'everything' }, 400)
    await check({ method: 'POST', path: '/v1/predictions/runs', url: '/v1/predictions/runs', key: operator, body: '<run/>', contentType: 'application/xml', status: 415 })
    await start({ kind: 'train' }, 202)
    await start({}, 409)
    const list = () => check({ method: 'GET', path: '/v1/predictions/runs', url: '/v1/predictions/runs?limit=5', key: read, status: 200 }) as Promise<{ running: boolean; runs: Array<{ id: string }> }>
    let runs = await list()
    for (let i = 0; i < 300 && (runs.running || runs.runs.length === 0); i++) {
      await new Promise((r) => setTimeout(r, 100))
      runs = await list()
    }
    await check({ method: 'GET', path: '/v1/predictions/runs', url: '/v1/predictions/runs?limit=500', key: read, status: 400 })
    await check({ method: 'GET', path: '/v1/predictions/runs', url: '/v1/predictions/runs', status: 401 })
    await check({ method: 'GET', path: '/v1/predictions/runs/{id}', url: `/v1/predictions/runs/${runs.runs[0]!.id}`, key: read, status: 200 })
    await check({ method: 'GET', path: '/v1/predictions/runs/{id}', url: '/v1/predictions/runs/20200101T000000Z-0000', key: read, status: 404 })
    await check({ method: 'GET', path: '/v1/predictions/runs/{id}', url: `/v1/predictions/runs/${'x'.repeat(101)}`, key: read, status: 414 })
  })

  it('the game', async () => {
    const { read, write } = s.keys
    const post = (path: string, url: string, body: unknown, status: number, form = false) =>
      check({
        method: 'POST',
        path,
        url,
        key: write,
        body: form ? new URLSearchParams(body as Record<string, string>).toString() : json(body),
        contentType: form ? 'application/x-www-form-urlencoded' : 'application/json',
        status,
      })
    await post('/game/players', '/game/players', { name: 'ada', password: 'secret', wealth: 100, id: 'p_ada' }, 201)
    await post('/game/players', '/game/players', { name: 'bob', password: 'secret', wealth: '5' }, 201, true)
    await post('/game/players', '/game/players', { name: 'ada', password: 'secret' }, 409)
    await post('/game/players', '/game/players', { name: 'eve' }, 400)
    await post('/game/login', '/game/login', { name: 'ada', password: 'secret' }, 200)
    await post('/game/login', '/game/login', { name: 'ada', password: 'wrong!' }, 401)
    await post('/game/login', '/game/login', { name: 'nobody', password: 'secret' }, 404)
    await post('/game/buy/{kind}', '/game/buy/potion', { player_id: 'p_ada' }, 200)
    await post('/game/buy/{kind}', '/game/buy/castle', { name: 'bob', cost: 1000 }, 402)
    await post('/game/purchase/{item_name}', '/game/purchase/potion', { name: 'ada' }, 200, true)
    await post('/game/join/{kind}', '/game/join/guild', { name: 'ada', org: 'knights', level: 'squire', cost: 1 }, 200)
    await post('/game/join/{kind}', '/game/join/guild', { name: 'ada', org: 'knights', level: 'squire' }, 409)
    await post('/game/join/{kind}', '/game/join/club', { name: 'ada', org: 'x', level: 'y' }, 400)
    await post('/game/join_a_guild', '/game/join_a_guild', { name: 'ada', org: 'mages', level: 'novice' }, 200)
    await check({ method: 'POST', path: '/game/login', url: '/game/login', key: write, body: 'hello', contentType: 'text/plain', status: 415 })
    await check({ method: 'GET', path: '/game/players/{id}', url: '/game/players/p_ada', key: read, status: 200 })
    await check({ method: 'GET', path: '/game/players/{id}', url: '/game/players/p_nobody', key: read, status: 404 })
    await check({ method: 'GET', path: '/game/players', url: '/game/players?name=bob', key: read, status: 200 })
    await check({ method: 'GET', path: '/game/players', url: '/game/players', key: read, status: 400 })
    await check({ method: 'GET', path: '/game/players', url: '/game/players?name=bob', status: 401 })
  })

  it('covered every operation of the document', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`))
    expect(documented.filter((op) => !called.has(op))).toEqual([])
  })
})
