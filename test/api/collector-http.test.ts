import { gzipSync } from 'node:zlib'
import type { Counter } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ApiContext } from '../../src/api/context.ts'
import { decodeEvent, isEngineRecord, validateEvent, type TrackedEvent } from '../../src/events/index.ts'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { maxEngineLag } from '../../src/api/collector/backpressure.ts'
import type { DeadLetter } from '../../src/ingest/dead-letters.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { auth, startTestServer, type TestServer } from './harness.ts'

// POST /v1/events and /v1/track against the real server: embedded log, engine thread, HTTP.
// Every test tags its events with a property `t`, then reads the log back to check that exactly
// the accepted events are stored and the rejected ones are in the dead-letter log.

let s: TestServer
beforeAll(async () => {
  s = await startTestServer()
})
afterAll(async () => {
  await s?.close()
})

interface Answer {
  status: number
  headers: Headers
  body: { accepted?: number; duplicates?: number; rejected?: Array<{ index: number; error: string; field: string }>; error?: { code: string; message: string; field?: string } }
}

interface PostOptions {
  key?: string | null
  type?: string | null
  encoding?: string
  path?: string
  url?: string
}

async function post(body: string | Buffer | ReadableStream<Uint8Array>, o: PostOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = {}
  const key = o.key === undefined ? s.keys.write : o.key
  if (key !== null) Object.assign(headers, auth(key))
  const type = o.type === undefined ? 'application/json' : o.type
  if (type !== null) headers['content-type'] = type
  if (o.encoding) headers['content-encoding'] = o.encoding
  const init: RequestInit & { duplex?: 'half' } = { method: 'POST', headers, body: body as NonNullable<RequestInit['body']> }
  if (body instanceof ReadableStream) init.duplex = 'half'
  const res = await fetch(`${o.url ?? s.url}${o.path ?? '/v1/events'}`, init)
  const text = await res.text()
  const answer = { status: res.status, headers: res.headers, body: JSON.parse(text) as Answer['body'] }
  if ((o.url ?? s.url) === s.url) acknowledged += answer.body.accepted ?? 0
  return answer
}

/** Events the main server said it accepted, over the whole file: the log must hold exactly these. */
let acknowledged = 0

const json = (v: unknown) => JSON.stringify(v)
const ndjson = (lines: unknown[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')
const TS = Date.UTC(2026, 10, 1, 12)

async function readTopic(ctx: ApiContext, topic: string): Promise<Array<{ partition: number; offset: number; value: Buffer }>> {
  const out: Array<{ partition: number; offset: number; value: Buffer }> = []
  for (let p = 0; p < ctx.partitions; p++) {
    let offset = 0
    for (;;) {
      const records = await ctx.log.read(topic, p, offset)
      if (records.length === 0) break
      for (const r of records) out.push({ partition: p, offset: r.offset, value: Buffer.from(r.value) })
      offset = records[records.length - 1]!.offset + 1
    }
  }
  return out
}

/** Events in the log whose property `t` is `tag`. */
async function stored(tag: string, ctx: ApiContext = s.ctx): Promise<TrackedEvent[]> {
  return (await readTopic(ctx, TOPICS.events))
    .filter((r) => !isEngineRecord(r.value))
    .map((r) => decodeEvent(r.value))
    .filter((e) => e.properties.t === tag)
}

/** Dead letters whose raw bytes contain `tag`. */
async function deadLetters(tag: string, ctx: ApiContext = s.ctx): Promise<DeadLetter[]> {
  return (await readTopic(ctx, TOPICS.deadLetters)).map((r) => JSON.parse(r.value.toString()) as DeadLetter).filter((d) => Buffer.from(d.raw_base64, 'base64').includes(tag))
}

async function counter(c: Counter<string>, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await c.get()
  return values.filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x)).reduce((a, v) => a + v.value, 0)
}

let serial = 0
/** The server still takes a good request, and stores it. */
async function expectServing(url = s.url, ctx = s.ctx): Promise<void> {
  const tag = `alive-${serial++}`
  const r = await post(json([{ event: 'spin', user_id: 'alive', t: tag }]), { url })
  expect(r.status).toBe(200)
  expect(r.body).toEqual({ accepted: 1, duplicates: 0, rejected: [] })
  expect(await stored(tag, ctx)).toHaveLength(1)
}

describe('POST /v1/events', () => {
  it("stores a JSON array durably before answering, each event with its fields, in the key's tenant", async () => {
    const events = Array.from({ length: 50 }, (_, i) => ({ event: i % 2 ? 'spin' : 'purchase', user_id: `u${i % 7}`, ts: TS + i, event_id: `arr-${i}`, amount: i, t: 'array' }))
    const r = await post(json(events))
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toMatch(/^application\/json/)
    expect(r.body).toEqual({ accepted: 50, duplicates: 0, rejected: [] })
    const got = await stored('array')
    expect(got).toHaveLength(50)
    const byId = new Map(got.map((e) => [e.event_id, e]))
    for (const [i, e] of events.entries()) {
      expect(byId.get(`arr-${i}`)).toMatchObject({ event: e.event, user_id: e.user_id, ts: e.ts, tenant: 'default', properties: { amount: i, t: 'array' } })
    }
  })

  it('takes {"batch": [...]} and one event object', async () => {
    expect(
      (
        await post(
          json({
            batch: [
              { event: 'a', user_id: 'u', t: 'wrap' },
              { event: 'b', user_id: 'u', t: 'wrap' },
            ],
          }),
        )
      ).body.accepted,
    ).toBe(2)
    expect((await post(json({ event: 'c', user_id: 'u', t: 'wrap' }))).body.accepted).toBe(1)
    const got = await stored('wrap')
    expect(got.map((e) => e.event).sort()).toEqual(['a', 'b', 'c'])
    // Server-assigned ids: UUIDv7, distinct.
    for (const e of got) expect(e.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(new Set(got.map((e) => e.event_id)).size).toBe(3)
  })

  it('takes NDJSON: a line that is not JSON is a rejected event at its line number, the others are stored', async () => {
    const body = ndjson([{ event: 'a', user_id: 'u', t: 'nd' }, '', 'not json nd', { event: 'b', user_id: 'u', t: 'nd' }, '{"event":"c","user_id":"u","t":"nd"'])
    const r = await post(body, { type: 'application/x-ndjson' })
    expect(r.status).toBe(200)
    expect(r.body.accepted).toBe(2)
    expect(r.body.rejected).toEqual([
      { index: 2, field: '(line)', error: "(line): invalid JSON at column 2: unexpected 'o' in a literal (true, false or null)" },
      { index: 4, field: '(line)', error: "(line): invalid JSON at column 36: unexpected end of input (expected ',' or '}')" },
    ])
    expect((await stored('nd')).map((e) => e.event).sort()).toEqual(['a', 'b'])
    const dead = await deadLetters('nd')
    expect(dead.map((d) => [d.index, Buffer.from(d.raw_base64, 'base64').toString()]).sort()).toEqual([
      [2, 'not json nd'],
      [4, '{"event":"c","user_id":"u","t":"nd"'],
    ])
  })

  it('takes gzip, for JSON and NDJSON', async () => {
    const a = await post(gzipSync(json([{ event: 'a', user_id: 'u', t: 'gz' }])), { encoding: 'gzip' })
    const b = await post(
      gzipSync(
        ndjson([
          { event: 'b', user_id: 'u', t: 'gz' },
          { event: 'c', user_id: 'u', t: 'gz' },
        ]),
      ),
      { encoding: 'gzip', type: 'application/x-ndjson' },
    )
    expect([a.status, a.body.accepted, b.status, b.body.accepted]).toEqual([200, 1, 200, 2])
    expect(await stored('gz')).toHaveLength(3)
  })

  it('reads a chunked body with no Content-Length', async () => {
    const bytes = Buffer.from(
      json([
        { event: 'a', user_id: 'u', t: 'chunked' },
        { event: 'b', user_id: 'u', t: 'chunked' },
      ]),
    )
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes.subarray(0, 10))
        c.enqueue(bytes.subarray(10))
        c.close()
      },
    })
    const r = await post(stream)
    expect([r.status, r.body.accepted]).toEqual([200, 2])
  })

  it('accepts the good events of a mixed batch and dead-letters the bad ones with reason, field, index and raw bytes', async () => {
    const deep = { a: { b: { c: { d: { e: { f: 1 } } } } } }
    const body = `[
      {"event":"ok","user_id":"u","t":"mixed"},
      {"user_id":"u","t":"mixed"},
      {"event":5,"user_id":"u","t":"mixed"},
      {"event":"x","t":"mixed"},
      {"event":"x","user_id":true,"t":"mixed"},
      {"event":"x","user_id":"u","ts":"yesterday","t":"mixed"},
      {"event":"x","user_id":"u","ts":1700000000,"t":"mixed"},
      {"event":"x","user_id":"u","n":1e400,"t":"mixed"},
      {"event":"x","user_id":"u","big":1152921504606846976,"t":"mixed"},
      ${json({ event: 'x', user_id: 'u', t: 'mixed', ...deep })},
      {"event":"x","user_id":"u","tenant":"acme","t":"mixed"},
      "mixed",
      {"event":"ok2","user_id":"u","t":"mixed"}
    ]`
    const r = await post(body)
    expect(r.status).toBe(200)
    expect(r.body.accepted).toBe(2)
    expect(r.body.rejected).toEqual([
      { index: 1, field: 'event', error: 'event: is required' },
      { index: 2, field: 'event', error: 'event: must be a string, got number' },
      { index: 3, field: 'user_id', error: 'user_id: is required (or anonymous_id)' },
      { index: 4, field: 'user_id', error: 'user_id: must be a string or an integer, got boolean' },
      { index: 5, field: 'ts', error: 'ts: "yesterday" is not an ISO-8601 date-time' },
      { index: 6, field: 'ts', error: 'ts: looks like epoch seconds; send epoch milliseconds or an ISO-8601 string' },
      { index: 7, field: 'n', error: 'n: number is out of range' },
      { index: 8, field: 'big', error: 'big: integer is beyond 2^53 and would lose precision; send it as a string' },
      { index: 9, field: 'a.b.c.d.e', error: 'a.b.c.d.e: nested deeper than 5 levels' },
      { index: 10, field: 'tenant', error: "tenant: is set by the API key; omit it or send the key's own tenant" },
      { index: 11, field: '(event)', error: '(event): must be a JSON object' },
    ])
    expect((await stored('mixed')).map((e) => e.event).sort()).toEqual(['ok', 'ok2'])
    const dead = (await deadLetters('mixed')).sort((a, b) => a.index - b.index)
    expect(dead.map((d) => d.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    for (const d of dead) {
      expect(d).toMatchObject({ tenant: 'default', source: 'http' })
      expect(typeof d.received_at).toBe('number')
      const want = r.body.rejected!.find((x) => x.index === d.index)!
      expect(`${d.field}: ${d.reason}`).toBe(want.error)
    }
    // The exact bytes as sent, not a re-serialization: 1e400 and the big integer survive.
    expect(Buffer.from(dead[6]!.raw_base64, 'base64').toString()).toBe('{"event":"x","user_id":"u","n":1e400,"t":"mixed"}')
    expect(Buffer.from(dead[7]!.raw_base64, 'base64').toString()).toBe('{"event":"x","user_id":"u","big":1152921504606846976,"t":"mixed"}')
    expect(Buffer.from(dead[10]!.raw_base64, 'base64').toString()).toBe('"mixed"')
  })

  it('answers 200 with accepted 0 when every event is bad (the request itself was fine)', async () => {
    const r = await post(
      json([
        { event: 'x', t: 'allbad' },
        { user_id: 'u', t: 'allbad' },
      ]),
    )
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ accepted: 0, duplicates: 0 })
    expect(r.body.rejected).toHaveLength(2)
    expect(await deadLetters('allbad')).toHaveLength(2)
  })

  it('turns deep nesting and huge numbers into per-event rejections', async () => {
    const deepElement = '['.repeat(100_000) + ']'.repeat(100_000)
    const r = await post(`[{"event":"ok","user_id":"u","t":"deep"}, ${deepElement}, {"event":"x","user_id":"u","n":-1e999,"t":"deep"}]`)
    expect(r.status).toBe(200)
    expect(r.body.accepted).toBe(1)
    expect(r.body.rejected).toEqual([
      { index: 1, field: '(event)', error: '(event): must be a JSON object' },
      { index: 2, field: 'n', error: 'n: number is out of range' },
    ])
    await expectServing()
  })

  it('keeps event properties nested deeply as a property rejection naming the path', async () => {
    const p = '{"k":'.repeat(10_000) + '1' + '}'.repeat(10_000)
    const r = await post(`[{"event":"x","user_id":"u","t":"deepprop","p":${p}}]`)
    expect(r.status).toBe(200)
    expect(r.body.rejected![0]).toMatchObject({ index: 0, field: 'p.k.k.k.k', error: 'p.k.k.k.k: nested deeper than 5 levels' })
  })

  it('rejects a property name of 128 characters but over 255 UTF-8 bytes as that event, and keeps its neighbours', async () => {
    const key = 'é'.repeat(128)
    const r = await post(`[{"event":"ok","user_id":"u","t":"longkey"},{"event":"x","user_id":"u","t":"longkey","${key}":1}]`)
    expect(r.status).toBe(200)
    expect(r.body.accepted).toBe(1)
    expect(r.body.rejected).toEqual([{ index: 1, field: key, error: `${key}: property name longer than 255 bytes in UTF-8` }])
    await expectServing()
  })
  it('stores events of an acme key under tenant acme', async () => {
    const r = await post(
      json([
        { event: 'a', user_id: 'u', t: 'acmetag' },
        { event: 'b', user_id: 'u', tenant: 'acme', t: 'acmetag' },
        { event: 'c', user_id: 'u', tenant: 'default', t: 'acmetag' },
      ]),
      { key: s.keys.acme },
    )
    expect(r.body.accepted).toBe(2)
    expect(r.body.rejected![0]!.index).toBe(2)
    const got = await stored('acmetag')
    expect(got.map((e) => e.tenant)).toEqual(['acme', 'acme'])
    expect((await deadLetters('acmetag')).map((d) => d.tenant)).toEqual(['acme'])
  })
})

describe('request-level errors', () => {
  const deepBody = '['.repeat(100_000)
  const none = Buffer.alloc(0)
  // fetch labels a string body text/plain by itself: bodies sent without a Content-Type are Buffers.
  const cases: Array<[string, number, string, string, () => Promise<Answer>]> = [
    [
      'malformed JSON, with line and column',
      400,
      'invalid_json',
      "body is not valid JSON at line 2, column 11 (position 50): unexpected '\"' (expected ':' after a property name)",
      () => post('[{"event":"x","user_id":"u","t":"bad"},\n {"event" "y"}]'),
    ],
    ['trailing garbage', 400, 'invalid_json', "line 1, column 4 (position 3): unexpected '[' after the end of the JSON value", () => post('[] []')],
    ['unterminated nesting 100,000 deep', 400, 'invalid_json', 'position 100000', () => post(deepBody)],
    ['text/plain', 415, 'unsupported_media_type', 'send one of: application/json, application/x-ndjson, application/ndjson', () => post('[]', { type: 'text/plain' })],
    ['multipart', 415, 'unsupported_media_type', 'Content-Type "multipart/form-data" is not accepted', () => post('--x\r\n\r\n--x--', { type: 'multipart/form-data; boundary=x' })],
    ['a malformed Content-Type', 415, 'unsupported_media_type', 'malformed Content-Type', () => post('[]', { type: 'nonsense' })],
    ['no Content-Type', 415, 'unsupported_media_type', 'missing Content-Type', () => post(Buffer.from('[]'), { type: null })],
    ['a non-UTF-8 charset', 415, 'unsupported_media_type', 'charset "iso-8859-1" is not accepted', () => post('[]', { type: 'application/json; charset=iso-8859-1' })],
    ['{"batch": 5}', 400, 'invalid_body', '"batch" must be an array of events, got a number', () => post('{"batch":5}')],
    ['a number', 400, 'invalid_body', 'got a number', () => post('42')],
    ['a string', 400, 'invalid_body', 'got a string', () => post('"events"')],
    ['an empty body', 400, 'empty_body', 'request body is empty', () => post('')],
    ['an empty body without Content-Type', 400, 'empty_body', 'request body is empty', () => post(none, { type: null })],
    ['whitespace', 400, 'empty_body', 'request body is empty', () => post('  \n ')],
    ['blank NDJSON', 400, 'empty_body', 'request body is empty', () => post('\n\n', { type: 'application/x-ndjson' })],
    ['bad gzip', 400, 'invalid_gzip', 'not valid gzip', () => post('[{"event":"x","user_id":"u","t":"bad"}]', { encoding: 'gzip' })],
    ['truncated gzip', 400, 'invalid_gzip', 'unexpected end of file', () => post(gzipSync(json([{ event: 'x', user_id: 'u', t: 'bad' }])).subarray(0, 20), { encoding: 'gzip' })],
    ['an unknown Content-Encoding', 415, 'unsupported_encoding', 'Content-Encoding "br" is not accepted', () => post('[]', { encoding: 'br' })],
    ['invalid UTF-8', 400, 'invalid_utf8', 'first bad byte at offset 33', () => post(Buffer.concat([Buffer.from('[{"event":"x","user_id":"u","t":"'), Buffer.from([0xff]), Buffer.from('"}]')]))],
    ['a missing key', 401, 'unauthorized', 'missing API key', () => post('[]', { key: null })],
    ['an unknown key', 401, 'unauthorized', 'unknown API key', () => post('[]', { key: 'nope' })],
    ['a read-only key', 403, 'forbidden', 'may not send events', () => post('[]', { key: s.keys.read })],
  ]

  it.each(cases)('%s → %s %s, and the server still serves', async (_name, status, code, message, send) => {
    const before = (await stored('bad')).length
    const r = await send()
    expect(r.status).toBe(status)
    expect(r.body.error!.code).toBe(code)
    expect(r.body.error!.message).toContain(message)
    expect(Object.keys(r.body)).toEqual(['error'])
    expect((await stored('bad')).length).toBe(before)
    await expectServing()
  })

  it('keeps a body it could not use in the dead-letter log (index -1) with the reason', async () => {
    const r = await post('{"batch":"deadbody"}')
    expect(r.status).toBe(400)
    const [d] = await deadLetters('deadbody')
    expect(d).toMatchObject({ index: -1, field: 'batch', source: 'http', tenant: 'default' })
    expect(d!.reason).toBe('invalid_body: "batch" must be an array of events, got a string')
    expect(Buffer.from(d!.raw_base64, 'base64').toString()).toBe('{"batch":"deadbody"}')
  })

  it('counts refused requests by reason', async () => {
    const before = await counter(s.ctx.metrics.rejectedRequests, { reason: 'invalid_body' })
    await post('[]', { type: 'text/plain' })
    await post('7')
    expect(await counter(s.ctx.metrics.rejectedRequests, { reason: 'invalid_body' })).toBe(before + 1)
    expect(await counter(s.ctx.metrics.rejectedRequests, { reason: 'unsupported_media_type' })).toBeGreaterThan(0)
  })

  it('counts auth refusals too', async () => {
    const before = await counter(s.ctx.metrics.rejectedRequests, { reason: 'forbidden' })
    expect((await post('[]', { key: s.keys.read })).status).toBe(403)
    // Counted when the response has finished, which the client may see a moment earlier.
    await expect.poll(() => counter(s.ctx.metrics.rejectedRequests, { reason: 'forbidden' })).toBe(before + 1)
  })
})

describe('limits', () => {
  let small: TestServer
  beforeAll(async () => {
    small = await startTestServer({ limits: { maxBodyBytes: 4096, maxEvents: 10 } })
  })
  afterAll(async () => {
    await small?.close()
  })
  const on = (o: PostOptions = {}) => ({ ...o, url: small.url })
  const events = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ event: 'spin', user_id: `u${i}`, t: tag }))

  it('refuses a body over maxBodyBytes with 413 payload_too_large', async () => {
    const r = await post(json([{ event: 'x', user_id: 'u', pad: 'x'.repeat(5000), t: 'big' }]), on())
    expect(r.status).toBe(413)
    expect(r.body.error).toMatchObject({ code: 'payload_too_large' })
    expect(r.body.error!.message).toContain('larger than 4096 bytes')
    await expectServing(small.url, small.ctx)
  })

  it('refuses a chunked body that grows over the limit', async () => {
    const chunk = Buffer.alloc(1024, 0x20)
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ < 8) c.enqueue(chunk)
        else c.close()
      },
    })
    const r = await post(stream, on())
    expect(r.status).toBe(413)
    await expectServing(small.url, small.ctx)
  })

  it('applies the limit after gunzip: a zip bomb gets 413', async () => {
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20))
    const r = await post(bomb, on({ encoding: 'gzip' }))
    expect(r.status).toBe(413)
    expect(r.body.error!.code).toBe('payload_too_large')
    await expectServing(small.url, small.ctx)
  })

  it('refuses more than maxEvents per request with 413 too_many_events, for JSON and NDJSON', async () => {
    const a = await post(json(events(11, 'many')), on())
    const b = await post(ndjson(events(11, 'many')), on({ type: 'application/x-ndjson' }))
    for (const r of [a, b]) {
      expect(r.status).toBe(413)
      expect(r.body.error!.code).toBe('too_many_events')
      expect(r.body.error!.message).toContain('request holds 11 events; at most 10')
    }
    expect(await stored('many', small.ctx)).toHaveLength(0)
    expect((await post(json(events(10, 'many')), on())).body.accepted).toBe(10)
    expect(await stored('many', small.ctx)).toHaveLength(10)
  })
})

describe('POST /v1/track', () => {
  it('stores one event', async () => {
    const r = await post(json({ event: 'spin', user_id: 'u', t: 'track' }), { path: '/v1/track' })
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ accepted: 1, duplicates: 0, rejected: [] })
    expect(await stored('track')).toHaveLength(1)
  })

  it('takes gzip', async () => {
    const r = await post(gzipSync(json({ event: 'spin', user_id: 'u', t: 'trackgz' })), { path: '/v1/track', encoding: 'gzip' })
    expect(r.body.accepted).toBe(1)
  })

  it('answers 400 invalid_event naming the field, and dead-letters the event', async () => {
    const raw = '{"event":"spin","user_id":"u","ts":"yesterday","t":"trackbad"}'
    const r = await post(raw, { path: '/v1/track' })
    expect(r.status).toBe(400)
    expect(r.body).toEqual({ error: { code: 'invalid_event', message: 'ts: "yesterday" is not an ISO-8601 date-time', field: 'ts' } })
    const [d] = await deadLetters('trackbad')
    expect(d).toMatchObject({ index: 0, field: 'ts', reason: '"yesterday" is not an ISO-8601 date-time', source: 'http' })
    expect(Buffer.from(d!.raw_base64, 'base64').toString()).toBe(raw)
    expect(await stored('trackbad')).toHaveLength(0)
  })

  it('refuses arrays, NDJSON and empty bodies', async () => {
    const a = await post(json([{ event: 'spin', user_id: 'u' }]), { path: '/v1/track' })
    expect([a.status, a.body.error!.code]).toEqual([400, 'invalid_body'])
    const b = await post(json({ event: 'spin', user_id: 'u' }), { path: '/v1/track', type: 'application/x-ndjson' })
    expect([b.status, b.body.error!.code, b.body.error!.message]).toEqual([415, 'unsupported_media_type', 'Content-Type "application/x-ndjson" is not accepted; send one of: application/json'])
    const c = await post('', { path: '/v1/track' })
    expect([c.status, c.body.error!.code]).toEqual([400, 'empty_body'])
  })

  it('needs a write key', async () => {
    expect((await post('{}', { path: '/v1/track', key: s.keys.read })).status).toBe(403)
    expect((await post('{}', { path: '/v1/track', key: null })).status).toBe(401)
  })

  it('answers a duplicate with duplicates 1', async () => {
    const body = json({ event: 'spin', user_id: 'u', event_id: 'track-dup', t: 'trackdup' })
    expect((await post(body, { path: '/v1/track' })).body).toEqual({ accepted: 1, duplicates: 0, rejected: [] })
    expect((await post(body, { path: '/v1/track' })).body).toEqual({ accepted: 0, duplicates: 1, rejected: [] })
    expect(await stored('trackdup')).toHaveLength(1)
  })
})

describe('de-duplication by event_id', () => {
  it('drops a repeated id within one request and across requests, per tenant; server ids are never deduped', async () => {
    const dupsBefore = await counter(s.ctx.metrics.duplicateEvents)
    const batch = [
      { event: 'a', user_id: 'u', event_id: 'd1', t: 'dedupe' },
      { event: 'a', user_id: 'u', event_id: 'd1', t: 'dedupe' },
      { event: 'b', user_id: 'u', event_id: 'd2', t: 'dedupe' },
      { event: 'c', user_id: 'u', t: 'dedupe' },
      { event: 'c', user_id: 'u', t: 'dedupe' },
    ]
    expect((await post(json(batch))).body).toEqual({ accepted: 4, duplicates: 1, rejected: [] })
    // The retry: only the events without a client id are new.
    expect((await post(json(batch))).body).toEqual({ accepted: 2, duplicates: 3, rejected: [] })
    // Another tenant's d1 is another event.
    expect((await post(json([batch[0]]), { key: s.keys.acme })).body).toEqual({ accepted: 1, duplicates: 0, rejected: [] })
    expect(await counter(s.ctx.metrics.duplicateEvents)).toBe(dupsBefore + 4)
    const got = await stored('dedupe')
    expect(
      got
        .filter((e) => e.event_id === 'd1')
        .map((e) => e.tenant)
        .sort(),
    ).toEqual(['acme', 'default'])
    expect(got.filter((e) => e.event_id === 'd2')).toHaveLength(1)
    expect(got.filter((e) => e.event === 'c')).toHaveLength(4)
  })

  it('a rejected event does not claim its id', async () => {
    expect((await post(json([{ event: 'a', event_id: 'd3', t: 'dedupe2' }]))).body.rejected).toHaveLength(1)
    expect((await post(json([{ event: 'a', user_id: 'u', event_id: 'd3', t: 'dedupe2' }]))).body).toEqual({ accepted: 1, duplicates: 0, rejected: [] })
  })

  it('stores a batch once when the same request arrives concurrently (pending ids count as seen)', async () => {
    const batch = json(Array.from({ length: 200 }, (_, i) => ({ event: 'a', user_id: `u${i % 9}`, event_id: `conc-${i}`, t: 'conc' })))
    const answers = await Promise.all([post(batch), post(batch), post(batch), post(batch)])
    expect(answers.reduce((a, r) => a + r.body.accepted!, 0)).toBe(200)
    expect(answers.reduce((a, r) => a + r.body.duplicates!, 0)).toBe(600)
    expect(await stored('conc')).toHaveLength(200)
  })

  it('NDJSON and JSON share the horizon', async () => {
    expect((await post(ndjson([{ event: 'a', user_id: 'u', event_id: 'mix-1', t: 'dedupe3' }]), { type: 'application/x-ndjson' })).body.accepted).toBe(1)
    expect((await post(json([{ event: 'a', user_id: 'u', event_id: 'mix-1', t: 'dedupe3' }]))).body.duplicates).toBe(1)
  })
})

describe('metrics', () => {
  it('counts accepted events by tenant, body bytes, and rejected events', async () => {
    const m = s.ctx.metrics
    const events = await counter(m.ingestEvents, { tenant: 'acme' })
    const bytes = await counter(m.ingestBytes)
    const rejected = await counter(m.rejectedEvents, { tenant: 'acme' })
    const body = json([
      { event: 'a', user_id: 'u', t: 'metrics' },
      { event: 'b', user_id: 'u', t: 'metrics' },
      { user_id: 'u', t: 'metrics' },
    ])
    await post(body, { key: s.keys.acme })
    expect(await counter(m.ingestEvents, { tenant: 'acme' })).toBe(events + 2)
    expect(await counter(m.rejectedEvents, { tenant: 'acme' })).toBe(rejected + 1)
    expect(await counter(m.ingestBytes)).toBe(bytes + Buffer.byteLength(body))
  })
})

describe('backpressure', () => {
  it('answers 429 overloaded with Retry-After while too many bytes are in flight, and loses nothing it accepted', async () => {
    const tight = await startTestServer({ backpressure: { maxInflightBytes: 1, maxEngineLag: 1e9, retryAfterSeconds: 3 } })
    try {
      const bodies = Array.from({ length: 16 }, (_, k) => json(Array.from({ length: 500 }, (_, i) => ({ event: 'spin', user_id: `u${i}`, event_id: `bp-${k}-${i}`, t: 'bp' }))))
      const answers = await Promise.all(bodies.map((b) => post(b, { url: tight.url })))
      const refused = answers.filter((r) => r.status === 429)
      const ok = answers.filter((r) => r.status === 200)
      expect(refused.length).toBeGreaterThan(0)
      expect(ok.length).toBeGreaterThan(0)
      expect(refused.length + ok.length).toBe(16)
      for (const r of refused) {
        expect(r.headers.get('retry-after')).toBe('3')
        expect(r.body.error!.code).toBe('overloaded')
      }
      expect(await stored('bp', tight.ctx)).toHaveLength(ok.length * 500)
      expect(await counter(tight.ctx.metrics.throttled, { status: '429' })).toBe(refused.length)
      expect(tight.ctx.inflight.bytes).toBe(0)
      await expectServing(tight.url, tight.ctx)
    } finally {
      await tight.close()
    }
  })

  it('answers 503 engine_lagging with Retry-After while the engine is behind the log', async () => {
    const lagging = await startTestServer({ backpressure: { maxInflightBytes: 1e9, maxEngineLag: 0, retryAfterSeconds: 1 } })
    try {
      const batch = (k: number) => json(Array.from({ length: 1000 }, (_, i) => ({ event: 'spin', user_id: `u${i}`, t: `lag${k}` })))
      const backlog = Array.from({ length: 20_000 }, (_, i) => {
        const r = validateEvent({ event: 'spin', user_id: `b${i % 500}`, ts: TS + i }, { receivedAt: TS + i })
        if (!r.ok) throw new Error(r.error.reason)
        return r.event
      })
      let refused: Answer | null = null
      const deadline = Date.now() + 30_000
      for (let k = 0; refused === null && Date.now() < deadline; k++) {
        // A backlog appended behind the collector's back gives the engine something to chew on.
        await appendEvents(lagging.ctx.log, backlog, lagging.ctx.partitions)
        // The collector reads the lag from the engine's latest snapshot (posted every 100 ms): post
        // while a snapshot shows the backlog, or a fast engine may have caught up between snapshots.
        const seen = Date.now() + 300
        while (maxEngineLag(lagging.ctx.engine.snapshot()) === 0 && Date.now() < seen) await new Promise((r) => setTimeout(r, 2))
        const answers = await Promise.all([post(batch(k), { url: lagging.url }), post(batch(k), { url: lagging.url }), post(batch(k), { url: lagging.url })])
        refused = answers.find((r) => r.status === 503) ?? null
      }
      expect(refused).not.toBeNull()
      expect(refused!.headers.get('retry-after')).toBe('1')
      expect(refused!.body.error!.code).toBe('engine_lagging')
      expect(refused!.body.error!.message).toMatch(/the segmentation engine is \d+ events behind the log \(limit 0\)/)
      expect(await counter(lagging.ctx.metrics.throttled, { status: '503' })).toBeGreaterThan(0)
      // Once the engine catches up, requests are taken again.
      let ok = false
      for (let i = 0; i < 100 && !ok; i++) {
        await new Promise((r) => setTimeout(r, 100))
        ok = (await post(json([{ event: 'spin', user_id: 'late', t: 'lagok' }]), { url: lagging.url })).status === 200
      }
      expect(ok).toBe(true)
    } finally {
      await lagging.close()
    }
  })
})

describe('the ledger', () => {
  it('the events log holds exactly as many events as the answers acknowledged, over every test above', async () => {
    expect(acknowledged).toBeGreaterThan(100)
    // The engine's clock records share the topic (docs/engine.md, "Time"); they are not events.
    expect((await readTopic(s.ctx, TOPICS.events)).filter((r) => !isEngineRecord(r.value)).length).toBe(acknowledged)
  })
})
