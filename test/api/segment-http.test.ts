import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TrackedEvent } from '../../src/events/index.ts'
import type { DeadLetter } from '../../src/ingest/dead-letters.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { logEvents, startTestServer, type TestServer } from './harness.ts'

// The Segment spec's routes over raw HTTP: de-duplication by messageId (across a restart too), the
// event-time model with sentAt, Segment-style answers and errors naming the fields as sent.

let s: TestServer
beforeAll(async () => {
  s = await startTestServer()
})
afterAll(async () => {
  await s.close()
})

const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` })

interface Answer {
  status: number
  body: {
    success?: boolean
    message?: string
    accepted?: number
    duplicates?: number
    rejected?: Array<{ index: number; error: string; field: string }>
    error?: { code: string; message: string; field?: string }
  }
}

async function send(path: string, body: unknown, o: { key?: string; headers?: Record<string, string>; url?: string; gzip?: boolean } = {}): Promise<Answer> {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  const headers: Record<string, string> = { 'content-type': 'application/json', ...basic(o.key ?? s.keys.write), ...o.headers }
  if (o.gzip) headers['content-encoding'] = 'gzip'
  const res = await fetch(`${o.url ?? s.url}${path}`, { method: 'POST', headers, body: o.gzip ? gzipSync(text) : text })
  return { status: res.status, body: (await res.json()) as Answer['body'] }
}

async function stored(server: TestServer, tag: string): Promise<TrackedEvent[]> {
  return (await logEvents(server)).filter((e) => e.properties.t === tag)
}

async function letters(server: TestServer, tag: string): Promise<DeadLetter[]> {
  const out: DeadLetter[] = []
  for (let p = 0; p < server.ctx.partitions; p++) {
    for (const r of await server.ctx.log.read(TOPICS.deadLetters, p, 0)) out.push(JSON.parse(Buffer.from(r.value).toString()) as DeadLetter)
  }
  return out.filter((d) => Buffer.from(d.raw_base64, 'base64').includes(tag))
}

describe('answers', () => {
  it('answers a batch with success, counts and the rejected messages named as sent', async () => {
    const batch = [
      { type: 'track', userId: 'u1', event: 'spin', properties: { t: 'answers' } },
      { userId: 'u1', event: 'spin', properties: { t: 'answers' } },
      { type: 'track', userId: 'u1', properties: { t: 'answers' } },
      { type: 'identify', traits: { t: 'answers' } },
      { type: 'track', userId: 'u1', event: 'spin', timestamp: 'yesterday', properties: { t: 'answers' } },
      { type: 'track', userId: 'u1', event: 'spin', properties: { t: 'answers', deep: { a: { b: { c: { d: { e: 1 } } } } } } },
      { type: 'track', userId: 'u1', event: 'spin', messageId: 7, properties: { t: 'answers' } },
      { type: 'group', userId: 'u1', traits: { t: 'answers' } },
      { type: 'alias', userId: 'u1', properties: { t: 'answers' } },
      { type: 'track', anonymousId: { id: 1 }, event: 'spin', properties: { t: 'answers' } },
      { type: 'alias', userId: 'u1', previousId: 'u1', properties: { t: 'answers' } },
    ]
    const r = await send('/v1/batch', { batch })
    expect(r.status).toBe(200)
    expect(r.body.success).toBe(true)
    expect(r.body.accepted).toBe(1)
    expect(r.body.rejected).toEqual([
      { index: 1, field: 'type', error: 'type: is required: one of track, identify, page, screen, group, alias' },
      { index: 2, field: 'event', error: 'event: is required for a track call' },
      { index: 3, field: 'userId', error: 'userId: is required (or anonymousId)' },
      { index: 4, field: 'timestamp', error: 'timestamp: "yesterday" is not an ISO-8601 date-time' },
      { index: 5, field: 'properties.deep.a.b.c.d', error: 'properties.deep.a.b.c.d: nested deeper than 5 levels' },
      { index: 6, field: 'messageId', error: 'messageId: must be a string, got number' },
      { index: 7, field: 'groupId', error: 'groupId: is required for a group call' },
      { index: 8, field: 'previousId', error: 'previousId: is required for an alias call' },
      { index: 9, field: 'anonymousId', error: expect.stringMatching(/^anonymousId: must be a string or an integer/) as string },
      { index: 10, field: 'previousId', error: 'previousId: must differ from userId: an alias to itself links nothing' },
    ])
    // Every rejected message is a dead letter with its own bytes.
    const kept = await letters(s, 'answers')
    expect(kept.map((d) => d.index).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    for (const d of kept) expect(JSON.parse(Buffer.from(d.raw_base64, 'base64').toString())).toEqual(batch[d.index])
  })

  it('refuses a bad body with success false, a message and our error', async () => {
    const notJson = await send('/v1/batch', '{"batch": [')
    expect(notJson.status).toBe(400)
    expect(notJson.body).toMatchObject({ success: false, error: { code: 'invalid_json' } })
    expect(notJson.body.message).toBe(notJson.body.error!.message)
    expect(await send('/v1/batch', { messages: [] })).toMatchObject({ status: 400, body: { success: false, error: { code: 'invalid_body', field: 'batch' } } })
    expect(await send('/v1/batch', { batch: {} })).toMatchObject({ status: 400, body: { error: { message: 'batch: must be an array of messages, got an object' } } })
    expect(await send('/v1/batch', { batch: [], sentAt: 'soon' })).toMatchObject({ status: 400, body: { error: { field: 'sentAt', message: 'sentAt: "soon" is not an ISO-8601 date-time' } } })
    expect(await send('/v1/identify', [1])).toMatchObject({ status: 400, body: { error: { message: 'body must be one identify call as a JSON object, got an array' } } })
  })

  it('answers a bad one-call request with 400 invalid_event naming the field', async () => {
    const r = await send('/v1/t', { userId: 'u1', event: 'spin', properties: { amount: 'x'.repeat(9000) } })
    expect(r).toMatchObject({ status: 400, body: { success: false, error: { code: 'invalid_event', field: 'properties.amount' } } })
    // /v1/track is ours too: a Segment call there is read and named the same, answered in our shape.
    expect(await send('/v1/track', { userId: 'u1', event: 'spin', properties: { amount: 'x'.repeat(9000) } })).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_event', field: 'properties.amount' } },
    })
    expect(await send('/v1/identify', { traits: { plan: 'pro' } })).toMatchObject({ status: 400, body: { error: { field: 'userId' } } })
  })

  it('reads gzip and any content type (text/plain from browsers, a form type from RudderStack)', async () => {
    const body = { batch: [{ type: 'track', userId: 'g1', event: 'spin', properties: { t: 'types' } }] }
    expect((await send('/v1/batch', body, { gzip: true, headers: { 'content-type': 'application/x-www-form-urlencoded' } })).body.accepted).toBe(1)
    expect((await send('/v1/t', { userId: 'g1', event: 'spin', properties: { t: 'types' } }, { headers: { 'content-type': 'text/plain' } })).body.accepted).toBe(1)
    expect((await send('/v1/p', { userId: 'g1', name: 'Home', properties: { t: 'types' } }, { headers: { 'content-type': 'text/plain;charset=UTF-8' } })).body.accepted).toBe(1)
    expect((await stored(s, 'types')).map((e) => e.event)).toEqual(['spin', 'spin', 'page'])
  })

  it('takes the write key as Basic user name, Bearer or X-API-Key; refuses an unknown or malformed one', async () => {
    const one = { userId: 'k1', event: 'spin', properties: { t: 'keys' } }
    expect((await send('/v1/track', one, { headers: { authorization: `Bearer ${s.keys.write}` } })).status).toBe(200)
    expect((await send('/v1/track', one, { headers: { authorization: `Basic ${Buffer.from(`:${s.keys.write}`).toString('base64')}` } })).status).toBe(200)
    expect(await send('/v1/track', one, { key: 'nope' })).toMatchObject({ status: 401, body: { error: { code: 'unauthorized', message: 'unknown API key' } } })
    expect((await send('/v1/track', one, { headers: { authorization: 'Basic %%%' } })).status).toBe(401)
    expect((await send('/v1/track', one, { headers: { authorization: `Basic ${Buffer.from(':').toString('base64')}` } })).body.error!.message).toMatch(/missing API key.*HTTP Basic/)
    expect(await stored(s, 'keys')).toHaveLength(2)
  })

  it('keeps a tenant-named trait as _tenant instead of refusing the event as another tenant', async () => {
    const r = await send('/v1/identify', { userId: 'b2b', traits: { tenant: 'globex', t: 'tenant' } }, { key: s.keys.acme })
    expect(r.status).toBe(200)
    expect((await stored(s, 'tenant'))[0]).toMatchObject({ tenant: 'acme', properties: { _tenant: 'globex' } })
  })

  it('POST /v1/track still reads our own events, and refuses them as ours', async () => {
    expect((await send('/v1/track', { event: 'spin', user_id: 'ours', t: 'ours' })).body).toEqual({ accepted: 1, duplicates: 0, rejected: [] })
    expect(await send('/v1/track', { event: 'spin', t: 'ours' })).toMatchObject({ status: 400, body: { error: { field: 'user_id' } } })
  })
})

describe('event time', () => {
  it('corrects a client clock an hour ahead by sentAt, per message or for the whole batch', async () => {
    const ahead = 3600_000
    const now = Date.now()
    const r = await send('/v1/batch', {
      batch: [
        { type: 'track', userId: 'clock', event: 'spin', timestamp: new Date(now + ahead - 60_000).toISOString(), properties: { t: 'clock', k: 'batch' } },
        {
          type: 'track',
          userId: 'clock',
          event: 'spin',
          originalTimestamp: new Date(now + ahead - 120_000).toISOString(),
          sentAt: new Date(now + ahead).toISOString(),
          properties: { t: 'clock', k: 'own' },
        },
      ],
      sentAt: new Date(now + ahead).toISOString(),
    })
    expect(r.body.accepted).toBe(2)
    const events = await stored(s, 'clock')
    const batch = events.find((e) => e.properties.k === 'batch')!
    const own = events.find((e) => e.properties.k === 'own')!
    // ts = client time + (received_at − sentAt): a minute (two) before it was received.
    expect(batch.received_at - batch.ts).toBeGreaterThanOrEqual(60_000)
    expect(batch.received_at - batch.ts).toBeLessThan(65_000)
    expect(own.received_at - own.ts).toBeGreaterThanOrEqual(120_000)
    expect(own.received_at - own.ts).toBeLessThan(125_000)
    expect(batch.properties.original_ts).toBe(now + ahead - 60_000)
  })

  it('takes the time from a client timestamp without sentAt, clamped to the receive time', async () => {
    const past = Date.UTC(2026, 10, 1, 10)
    await send('/v1/track', { userId: 'clock2', event: 'spin', timestamp: new Date(past).toISOString(), properties: { t: 'clock2' } })
    await send('/v1/track', { userId: 'clock2', event: 'spin', timestamp: new Date(Date.now() + 3600_000).toISOString(), properties: { t: 'clock2' } })
    const [a, b] = await stored(s, 'clock2')
    expect(a!.ts).toBe(past)
    expect(b!.ts).toBe(b!.received_at)
  })
})

describe('de-duplication by messageId', () => {
  it('drops a message sent again, in the same batch, another request or another route', async () => {
    const m = { type: 'track', userId: 'd1', event: 'spin', messageId: 'dup-1', properties: { t: 'dup' } }
    expect((await send('/v1/batch', { batch: [m, m] })).body).toMatchObject({ accepted: 1, duplicates: 1 })
    expect((await send('/v1/batch', { batch: [m] })).body).toMatchObject({ accepted: 0, duplicates: 1 })
    expect((await send('/v1/track', m)).body).toMatchObject({ accepted: 0, duplicates: 1 })
    // The same id under another tenant is another message.
    expect((await send('/v1/batch', { batch: [m] }, { key: s.keys.acme })).body).toMatchObject({ accepted: 1, duplicates: 0 })
    expect(await stored(s, 'dup')).toHaveLength(2)
  })

  it('still drops it after the server restarts on the same data', async () => {
    const first = await startTestServer()
    const dataDir = first.dataDir
    const m = { type: 'identify', userId: 'd2', messageId: 'dup-restart', traits: { t: 'restart' } }
    try {
      expect((await send('/v1/batch', { batch: [m] }, { url: first.url })).body.accepted).toBe(1)
    } finally {
      await first.server.close()
    }
    const again = await startTestServer({ dataDir })
    try {
      expect((await send('/v1/batch', { batch: [m] }, { url: again.url })).body).toMatchObject({ accepted: 0, duplicates: 1 })
      expect(await stored(again, 'restart')).toHaveLength(1)
    } finally {
      await again.close()
    }
  })
})

describe('PostHog', () => {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${s.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: res.status, body: (await res.json()) as Answer['body'] & { status?: number } }
  }

  it('de-duplicates by uuid and names rejected fields as PostHog sends them', async () => {
    const e = { event: 'spin', distinct_id: 'ph1', uuid: 'ph-uuid-1', properties: { t: 'posthog' } }
    const first = await post('/batch/', {
      api_key: s.keys.write,
      batch: [
        e,
        { event: 'spin', properties: { t: 'posthog' } },
        { event: 'spin', distinct_id: 'ph1', timestamp: 'soon', properties: { t: 'posthog' } },
        { event: '$create_alias', distinct_id: 'ph1', properties: { t: 'posthog', alias: 'ph1' } },
      ],
    })
    expect(first).toMatchObject({ status: 200, body: { status: 1, accepted: 1, duplicates: 0 } })
    expect(first.body.rejected!.map((r) => r.error)).toEqual([
      'distinct_id: is required',
      'timestamp: "soon" is not an ISO-8601 date-time',
      'properties.alias: must differ from distinct_id: an alias to itself links nothing',
    ])
    expect((await post('/capture/', { ...e, api_key: s.keys.write })).body).toMatchObject({ accepted: 0, duplicates: 1 })
    expect(await stored(s, 'posthog')).toHaveLength(1)
  })

  it('takes the key from the first event or its properties.token, and refuses a body without one', async () => {
    expect((await post('/batch', [{ event: 'spin', distinct_id: 'ph2', api_key: s.keys.write, properties: { t: 'ph-token' } }])).body.accepted).toBe(1)
    expect((await post('/capture', { event: 'spin', distinct_id: 'ph2', properties: { t: 'ph-token', token: s.keys.write } })).body.accepted).toBe(1)
    expect(await post('/batch/', { batch: [{ event: 'spin', distinct_id: 'ph2', properties: { t: 'ph-token' } }] })).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } })
    expect(await post('/batch/', { api_key: s.keys.read, batch: [] })).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } })
    expect(await post('/batch/', { api_key: s.keys.write, batch: 'x' })).toMatchObject({ status: 400, body: { error: { field: 'batch' } } })
    expect(await stored(s, 'ph-token')).toHaveLength(2)
  })
})
