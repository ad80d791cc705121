import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { backoffDelay, nominalDelay, parseRetryAfter } from '../../src/api/webhooks/backoff.ts'
import { classifyStatus, deliverBatch, idempotencyKey, type DeliveryDeps } from '../../src/api/webhooks/deliver.ts'
import { validateWebhooks, webhookGroup } from '../../src/api/webhooks/index.ts'

const silent = pino({ level: 'silent' })

describe('webhook backoff', () => {
  it('doubles from 250 ms and stops at 30 s', () => {
    expect(Array.from({ length: 10 }, (_, i) => nominalDelay(i))).toEqual([250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000])
    expect(nominalDelay(1000)).toBe(30_000)
  })

  it('spreads each delay by ±20 % and never exceeds the cap', () => {
    expect(backoffDelay(0, undefined, () => 0)).toBe(200)
    expect(backoffDelay(0, undefined, () => 0.5)).toBe(250)
    expect(backoffDelay(0, undefined, () => 0.999999)).toBe(300)
    expect(backoffDelay(20, undefined, () => 0.999999)).toBe(30_000)
    expect(backoffDelay(20, undefined, () => 0)).toBe(24_000)
  })

  it('reads Retry-After as seconds or an HTTP date, capped at 10 minutes', () => {
    const now = Date.UTC(2026, 0, 1)
    expect(parseRetryAfter(null)).toBeNull()
    expect(parseRetryAfter('3')).toBe(3000)
    expect(parseRetryAfter('0')).toBe(0)
    expect(parseRetryAfter(new Date(now + 5000).toUTCString(), now)).toBe(5000)
    expect(parseRetryAfter(new Date(now - 5000).toUTCString(), now)).toBe(0)
    expect(parseRetryAfter('86400')).toBe(600_000)
    expect(parseRetryAfter('soon')).toBeNull()
  })

  it('classifies statuses', () => {
    expect([200, 201, 204].map(classifyStatus)).toEqual(['ok', 'ok', 'ok'])
    expect([408, 429, 500, 502, 503, 504, 301, 307].map(classifyStatus)).toEqual(Array(8).fill('retry'))
    expect([400, 401, 403, 404, 410, 413, 422].map(classifyStatus)).toEqual(Array(7).fill('drop'))
  })
})

describe('webhook config', () => {
  it('names the consumer group by the sha1 of the URL', () => {
    // sha1("http://example.com/hook"), computed with Python's hashlib.
    expect(webhookGroup('http://example.com/hook')).toBe('webhook:501d9bd86c27')
    expect(webhookGroup('http://example.com/other')).not.toBe('webhook:501d9bd86c27')
  })

  it('refuses bad entries with a message naming the entry', () => {
    expect(() => validateWebhooks([{ url: 'nope', streams: ['notifications'] }])).toThrow('webhooks[0].url "nope" is not a URL')
    expect(() => validateWebhooks([{ url: 'ftp://x/y', streams: ['notifications'] }])).toThrow('must be http:// or https://')
    expect(() => validateWebhooks([{ url: 'http://x/y', streams: [] }])).toThrow('webhooks[0].streams is empty')
    expect(() => validateWebhooks([{ url: 'http://x/y', streams: ['nope' as 'notifications'] }])).toThrow('unknown stream "nope"')
    expect(() =>
      validateWebhooks([
        { url: 'http://x/y?token=secret', streams: ['notifications'] },
        { url: 'http://x/y?token=secret', streams: ['segment-changes'] },
      ]),
    ).toThrow(/webhooks\[1\]\.url http:\/\/x\/y is configured twice/)
  })
})

describe('deliverBatch', () => {
  const records = [
    { segment: 'a', tenant: 't', partition: 2, offset: 10 },
    { segment: 'a', tenant: 't', partition: 2, offset: 14 },
  ]
  const batch = { topic: 'segment-changes', partition: 2, records, idempotencyKey: idempotencyKey('segment-changes', 2, records) }

  function deps(responses: Array<Response | Error>, overrides: Partial<DeliveryDeps> = {}) {
    const calls: Array<{ headers: Record<string, string>; body: string; at: number }> = []
    const counts: string[] = []
    const fetchFn = (async (_url: string | URL | Request, init?: RequestInit) => {
      calls.push({ headers: init!.headers as Record<string, string>, body: String(init!.body), at: Date.now() })
      const next = responses.shift() ?? new Response('', { status: 200 })
      if (next instanceof Error) throw next
      return next
    }) as typeof fetch
    const d: DeliveryDeps = {
      url: 'http://127.0.0.1:1/hook',
      fetch: fetchFn,
      timeoutMs: 1000,
      backoff: { baseMs: 10, maxMs: 40, jitter: 0 },
      random: () => 0.5,
      signal: new AbortController().signal,
      hardSignal: new AbortController().signal,
      logger: silent,
      count: (o) => counts.push(o),
      ...overrides,
    }
    return { d, calls, counts }
  }

  it('names the batch by its first and last offsets', () => {
    expect(batch.idempotencyKey).toBe('segment-changes:2:10-14')
  })

  it('retries network errors, 5xx and 429 with the same key, then delivers', async () => {
    const { d, calls, counts } = deps([new TypeError('fetch failed'), new Response('', { status: 503 }), new Response('', { status: 429 }), new Response(null, { status: 204 })])
    expect(await deliverBatch(batch, d)).toBe('delivered')
    expect(counts).toEqual(['retried', 'retried', 'retried', 'delivered'])
    expect(calls).toHaveLength(4)
    for (const c of calls) {
      expect(c.headers).toEqual({ 'content-type': 'application/json', 'idempotency-key': 'segment-changes:2:10-14', 'x-tagstream-stream': 'segment-changes' })
      expect(JSON.parse(c.body)).toEqual({ records })
    }
    // 10, 20, 40 ms: doubling with no jitter.
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(9)
    expect(calls[3]!.at - calls[2]!.at).toBeGreaterThanOrEqual(39)
  })

  it('honours Retry-After', async () => {
    const { d, calls } = deps([new Response('', { status: 429, headers: { 'retry-after': '1' } })])
    expect(await deliverBatch(batch, d)).toBe('delivered')
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(990)
  })

  it('drops a batch refused with a 4xx', async () => {
    const { d, calls, counts } = deps([new Response('bad payload', { status: 422 })])
    expect(await deliverBatch(batch, d)).toBe('dropped')
    expect(calls).toHaveLength(1)
    expect(counts).toEqual(['dropped'])
  })

  it('stops waiting between retries when aborted', async () => {
    const ac = new AbortController()
    const { d } = deps([new Response('', { status: 500 })], { backoff: { baseMs: 60_000, maxMs: 60_000, jitter: 0 }, signal: ac.signal })
    const t0 = Date.now()
    setTimeout(() => ac.abort(), 20)
    expect(await deliverBatch(batch, d)).toBe('stopped')
    expect(Date.now() - t0).toBeLessThan(1000)
  })
})
