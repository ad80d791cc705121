import { describe, expect, it } from 'vitest'
import { auth, rawGet, useTestServer } from './harness.ts'

/** Issue 15, item 11: the small ones, over HTTP. */
describe('small hostile inputs', () => {
  const s = useTestServer()
  const post = (events: unknown[]) => fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(s.keys.write), 'content-type': 'application/json' }, body: JSON.stringify(events) })

  it('refuses a segment named __proto__ (it worked live and was lost on restart)', async () => {
    const res = await fetch(`${s.url}/v1/segments/__proto__`, {
      method: 'PUT',
      headers: { ...auth(s.keys.operator), 'content-type': 'application/json' },
      body: JSON.stringify({ when: 'count(spin, 1h) >= 1' }),
    })
    expect(res.status).toBe(400)
    expect(JSON.stringify(await res.json())).toContain('not __proto__')
  })

  it('counts an event named __proto__ like any other', async () => {
    expect((await post([{ event: '__proto__', user_id: 'proto-user', ts: Date.now() - 10 }])).status).toBe(200)
    let counts: Record<string, number> = {}
    for (const deadline = Date.now() + 10_000; !Object.hasOwn(counts, '__proto__') && Date.now() < deadline;) {
      const res = await fetch(`${s.url}/v1/profiles/proto-user`, { headers: auth(s.keys.read) })
      if (res.status === 200) counts = ((await res.json()) as { counts: Record<string, number> }).counts
      if (!Object.hasOwn(counts, '__proto__')) await new Promise((r) => setTimeout(r, 100))
    }
    expect(Object.hasOwn(counts, '__proto__')).toBe(true)
    expect(Object.getOwnPropertyDescriptor(counts, '__proto__')?.value).toBe(1)
  })

  it('refuses a time zone offset beyond ±23:59', async () => {
    const res = await post([{ event: 'spin', user_id: 'tz', ts: '2026-11-01T10:00:00+25:00' }])
    expect(res.status).toBe(200)
    const body = (await res.json()) as { accepted: number; rejected: Array<{ field: string; error: string }> }
    expect(body.accepted).toBe(0)
    expect(body.rejected[0]).toMatchObject({ field: 'ts' })
    expect(body.rejected[0]!.error).toContain('offset out of range')
  })

  it('tells a read key that SQL needs the admin scope', async () => {
    const res = await fetch(`${s.url}/v1/query`, { method: 'POST', headers: { ...auth(s.keys.read), 'content-type': 'application/json' }, body: JSON.stringify({ sql: 'SELECT 1' }) })
    expect(res.status).toBe(403)
    const message = ((await res.json()) as { error: { message: string } }).error.message
    expect(message).toContain('run SQL')
    expect(message).not.toContain('may not change segments (')
  })

  const game = (body: string, type: string) => fetch(`${s.url}/game/players`, { method: 'POST', headers: { ...auth(s.keys.write), 'content-type': type }, body })

  it('refuses a game form whose percent-encoding is not UTF-8, instead of storing U+FFFD', async () => {
    const res = await game('name=%ff%fe&password=secret1234', 'application/x-www-form-urlencoded')
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'invalid_form' })
  })

  it('answers text/plain on game routes with 415, as docs/game.md says', async () => {
    const res = await game('name=x', 'text/plain')
    expect(res.status).toBe(415)
  })

  it('treats a name in NFC and in NFD as the same player', async () => {
    const nfc = 'Jos\u00e9'
    const nfd = 'Jose\u0301'
    expect((await game(JSON.stringify({ name: nfc, password: 'secret1234' }), 'application/json')).status).toBe(201)
    const again = await game(JSON.stringify({ name: nfd, password: 'secret1234' }), 'application/json')
    expect(again.status).toBe(409)
  })

  it("does not tell a tenant how many of other tenants' records its recent-events scan looked at", async () => {
    const acme = (events: unknown[]) => fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(s.keys.acme), 'content-type': 'application/json' }, body: JSON.stringify(events) })
    expect((await acme(Array.from({ length: 50 }, (_, i) => ({ event: 'spin', user_id: `acme-${i}`, ts: Date.now() - 10 })))).status).toBe(200)
    const res = await fetch(`${s.url}/v1/dashboard/profiles/nobody-here/events`, { headers: auth(s.keys.read) })
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(body.events).toEqual([])
    expect(Object.keys(body).sort()).toEqual(['complete', 'events', 'partition'])
  })

  it("answers an overlong path segment (414) and oversized headers (431) in the API's error shape", async () => {
    const long = await fetch(`${s.url}/v1/profiles/${'x'.repeat(300)}`, { headers: auth(s.keys.read) })
    expect(long.status).toBe(414)
    expect(((await long.json()) as { error: { code: string } }).error.code).toBe('uri_too_long')
    const big = await rawGet(`${s.url}/healthz`, { 'x-big': 'y'.repeat(20_000) })
    expect(big.status).toBe(431)
    expect(JSON.parse(big.body)).toEqual({ error: { code: 'headers_too_large', message: 'the request line and headers are larger than 16 KiB' } })
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200)
  })
})
