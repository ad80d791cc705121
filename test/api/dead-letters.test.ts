import type { DeadLetterItem } from '../../src/api/collector/dead-letter-list.ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendDeadLetters } from '../../src/ingest/dead-letters.ts'
import { auth, startTestServer, type TestServer } from './harness.ts'

// GET /v1/dead-letters against the real server: rejected events posted over HTTP come back, newest
// first, to the key's tenant only, page by page.

let s: TestServer
beforeAll(async () => {
  s = await startTestServer()
})
afterAll(async () => {
  await s?.close()
})

type Item = DeadLetterItem
interface Page {
  dead_letters: Item[]
  next: string | null
}

async function list(query = '', key = s.keys.read): Promise<{ status: number; body: Page & { error?: { code: string; message: string; field?: string } } }> {
  const res = await fetch(`${s.url}/v1/dead-letters${query}`, { headers: auth(key) })
  return { status: res.status, body: (await res.json()) as Page & { error?: { code: string; message: string; field?: string } } }
}

async function post(body: string | Buffer, key: string, type = 'application/json'): Promise<number> {
  const res = await fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(key), 'content-type': type }, body: body as NonNullable<RequestInit['body']> })
  await res.arrayBuffer()
  return res.status
}

async function all(key = s.keys.read, limit = 1000): Promise<Item[]> {
  const out: Item[] = []
  let cursor: string | null = null
  do {
    const page = await list(`?limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`, key)
    expect(page.status).toBe(200)
    out.push(...page.body.dead_letters)
    cursor = page.body.next
  } while (cursor !== null)
  return out
}

describe('GET /v1/dead-letters', () => {
  it('is empty before anything was rejected', async () => {
    expect((await list()).body).toEqual({ dead_letters: [], next: null })
  })

  it("lists the tenant's rejected events newest first with reason, field, index, source and raw text", async () => {
    const before = Date.now()
    expect(await post('[{"event":"ok","user_id":"u"},{"user_id":"u","n":1},{"event":"x"}]', s.keys.write)).toBe(200)
    expect(await post('[{"event":"x","user_id":"u","ts":"soon"}]', s.keys.write)).toBe(200)
    const { status, body } = await list()
    expect(status).toBe(200)
    expect(body.next).toBeNull()
    expect(body.dead_letters.map((d) => [d.index, d.field, d.reason, d.source, d.raw])).toEqual([
      [0, 'ts', '"soon" is not an ISO-8601 date-time', 'http', '{"event":"x","user_id":"u","ts":"soon"}'],
      [2, 'user_id', 'is required (or anonymous_id)', 'http', '{"event":"x"}'],
      [1, 'event', 'is required', 'http', '{"user_id":"u","n":1}'],
    ])
    const [first, second] = body.dead_letters
    expect(first!.offset).toBeGreaterThan(second!.offset)
    expect(first!.partition).toBe(second!.partition)
    expect(Date.parse(first!.received_at)).toBeGreaterThanOrEqual(before - 1000)
    expect(first!.received_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(first!.raw_base64).toBeUndefined()
  })

  it('gives raw_base64 when the bytes are not UTF-8', async () => {
    const body = Buffer.concat([Buffer.from('{"event":"a","user_id":"u"}\n{"event":"'), Buffer.from([0xff]), Buffer.from('"}')])
    expect(await post(body, s.keys.write, 'application/x-ndjson')).toBe(200)
    const [d] = (await list('?limit=1')).body.dead_letters
    expect(d).toMatchObject({ index: 1, field: '(line)', reason: 'line is not valid UTF-8' })
    expect(d!.raw).toBeUndefined()
    expect(Buffer.from(d!.raw_base64!, 'base64')).toEqual(body.subarray(body.indexOf('\n') + 1))
  })

  it('lists a whole bad body with index -1', async () => {
    expect(await post('{"batch":null}', s.keys.write)).toBe(400)
    const [d] = (await list('?limit=1')).body.dead_letters
    expect(d).toMatchObject({ index: -1, field: 'batch', raw: '{"batch":null}' })
    expect(d!.reason).toBe('invalid_body: "batch" must be an array of events, got null')
  })

  it('shows at most 16 KiB of a large raw body, cut on a character boundary, with its full size', async () => {
    // 16 KiB falls in the middle of an 'é': the text must end before it.
    const body = `{"batch":"x${'é'.repeat(20_000)}"}`
    expect(await post(body, s.keys.write)).toBe(400)
    const [d] = (await list('?limit=1')).body.dead_letters
    expect(d).toMatchObject({ index: -1, raw_truncated: true, raw_bytes: Buffer.byteLength(body) })
    expect(d!.raw!.startsWith('{"batch":"xéé')).toBe(true)
    expect(Buffer.byteLength(d!.raw!)).toBe(16 * 1024 - 1)
    expect(d!.raw!.endsWith('é')).toBe(true)
  })

  it('shows each tenant only its own dead letters', async () => {
    expect(await post('[{"event":"acme-bad"}]', s.keys.acme)).toBe(200)
    const acme = await all(s.keys.acme)
    expect(acme.map((d) => d.raw)).toEqual(['{"event":"acme-bad"}'])
    expect((await all()).some((d) => d.raw?.includes('acme-bad'))).toBe(false)
  })

  it('includes dead letters from other sources (file ingestion)', async () => {
    await appendDeadLetters(
      s.ctx.log,
      [
        {
          tenant: 'default',
          source: 'file:events.ndjson',
          received_at: Date.UTC(2026, 10, 1),
          index: 41,
          field: '(line)',
          reason: 'invalid JSON',
          raw_base64: Buffer.from('{oops').toString('base64'),
        },
      ],
      s.ctx.partitions,
    )
    const [d] = (await list('?limit=1')).body.dead_letters
    expect(d).toMatchObject({ source: 'file:events.ndjson', index: 41, raw: '{oops', received_at: '2026-11-01T00:00:00.000Z' })
  })

  it('pages with limit and cursor: every letter exactly once, newest first', async () => {
    const bad = Array.from({ length: 25 }, (_, i) => ({ event: `page-${i}` }))
    expect(await post(JSON.stringify(bad), s.keys.write)).toBe(200)
    const everything = await all()
    const paged = await all(s.keys.read, 4)
    expect(paged).toEqual(everything)
    const offsets = paged.map((d) => d.offset)
    expect(offsets).toEqual([...offsets].sort((a, b) => b - a))
    expect(new Set(offsets).size).toBe(offsets.length)
    const first = await list('?limit=4')
    expect(first.body.dead_letters).toHaveLength(4)
    expect(first.body.next).toBe(String(first.body.dead_letters[3]!.offset))
    // Newest first: the last event of the batch is the first letter.
    expect(first.body.dead_letters[0]!.raw).toBe('{"event":"page-24"}')
  })

  it('defaults to 100 per page', async () => {
    const bad = Array.from({ length: 120 }, (_, i) => ({ event: `many-${i}` }))
    expect(await post(JSON.stringify(bad), s.keys.write)).toBe(200)
    const page = await list()
    expect(page.body.dead_letters).toHaveLength(100)
    expect(page.body.next).not.toBeNull()
  })

  it.each([
    ['?limit=0', 'limit', 'limit must be an integer from 1 to 1000, got "0"'],
    ['?limit=1001', 'limit', 'limit must be an integer from 1 to 1000, got "1001"'],
    ['?limit=abc', 'limit', 'limit must be an integer from 1 to 1000, got "abc"'],
    ['?limit=1.5', 'limit', 'limit must be an integer from 1 to 1000, got "1.5"'],
    ['?limit=', 'limit', 'limit must be an integer from 1 to 1000, got ""'],
    ['?limit=1&limit=2', 'limit', 'limit must be given once'],
    ['?cursor=-1', 'cursor', 'cursor must be the "next" value of a previous page, got "-1"'],
    ['?cursor=abc', 'cursor', 'cursor must be the "next" value of a previous page, got "abc"'],
    ['?before=3', 'before', 'unknown query parameter "before" (accepted: limit, cursor)'],
  ])('%s → 400 invalid_query naming %s', async (query, field, message) => {
    const r = await list(query)
    expect(r.status).toBe(400)
    expect(r.body).toEqual({ error: { code: 'invalid_query', message, field } })
  })

  it('needs a read key', async () => {
    expect((await list('', s.keys.write)).status).toBe(403)
    expect((await list('', 'nope')).status).toBe(401)
    const res = await fetch(`${s.url}/v1/dead-letters`)
    expect(res.status).toBe(401)
  })
})
