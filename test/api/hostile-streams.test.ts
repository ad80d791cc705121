import { afterAll, describe, expect, it } from 'vitest'
import { auth, useTestServer } from './harness.ts'

/*
 * Issue 15, item 5: open streams are capped per tenant and for the server, so one tenant at its cap
 * does not stop another from opening a stream. Caps here are small; defaults in docs/api.md.
 */

interface Opened {
  status: number
  body: string
  abort(): void
}

async function open(url: string, key: string): Promise<Opened> {
  const ac = new AbortController()
  const res = await fetch(url, { headers: { ...auth(key), accept: 'text/event-stream' }, signal: ac.signal })
  // An open stream is left open (headers are flushed at once); a refusal is read whole.
  const body = res.status === 200 ? '' : await res.text()
  return { status: res.status, body, abort: () => ac.abort() }
}

describe('stream caps', () => {
  const s = useTestServer({ streams: { ssePerTenant: 3, sseTotal: 5, dashboardPerTenant: 2, dashboardTotal: 3 } })
  const opened: Opened[] = []
  afterAll(() => {
    for (const o of opened) o.abort()
  })
  const keep = (o: Opened) => (opened.push(o), o)

  it('SSE: one tenant at its cap gets 429 naming the cap; another tenant still opens; the server cap answers 503', async () => {
    for (let i = 0; i < 3; i++) expect(keep(await open(`${s.url}/v1/segment-changes`, s.keys.read)).status).toBe(200)
    const fourth = keep(await open(`${s.url}/v1/notifications`, s.keys.read))
    expect(fourth.status).toBe(429)
    expect(JSON.parse(fourth.body)).toEqual({
      error: { code: 'too_many_streams', message: 'tenant "default" has 3 SSE streams open (per-tenant cap 3); close one and retry' },
    })
    // The other tenant is not locked out.
    expect(keep(await open(`${s.url}/v1/segment-changes`, s.keys.acme)).status).toBe(200)
    expect(keep(await open(`${s.url}/v1/notifications`, s.keys.acme)).status).toBe(200)
    const full = keep(await open(`${s.url}/v1/segment-changes`, s.keys.acme))
    expect(full.status).toBe(503)
    expect(JSON.parse(full.body).error.message).toContain('server-wide cap 5')
    // The server stays responsive.
    const t0 = performance.now()
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200)
    expect(performance.now() - t0).toBeLessThan(500)
    // A closed stream frees its slot (its read loops end within pollWaitMs).
    opened[0]!.abort()
    let again: Opened | null = null
    for (let i = 0; i < 40 && again?.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100))
      again = keep(await open(`${s.url}/v1/segment-changes`, s.keys.read))
    }
    expect(again?.status).toBe(200)
  })

  it('dashboard live: per-tenant cap 429, another tenant still opens', async () => {
    for (let i = 0; i < 2; i++) expect(keep(await open(`${s.url}/v1/dashboard/live`, s.keys.read)).status).toBe(200)
    const third = keep(await open(`${s.url}/v1/dashboard/live`, s.keys.read))
    expect(third.status).toBe(429)
    expect(JSON.parse(third.body).error.message).toContain('per-tenant cap 2')
    expect(keep(await open(`${s.url}/v1/dashboard/live`, s.keys.acme)).status).toBe(200)
    const metrics = await (await fetch(`${s.url}/metrics`)).text()
    expect(metrics).toMatch(/tagstream_limit_hits_total\{limit="sse_streams_per_tenant"\} [1-9]/)
    expect(metrics).toMatch(/tagstream_limit_hits_total\{limit="dashboard_streams_per_tenant"\} 1/)
    expect(metrics).toMatch(/tagstream_open_streams\{kind="dashboard"\} 3/)
  })
})
