import { afterAll, describe, expect, it } from 'vitest'
import { auth, startTestServer, type TestServer } from './harness.ts'
import { openRaw, postHead, sleep, within, writeDrained, type RawRequest } from './hostile-http.ts'

/*
 * Issue 15, item 4: slow bodies. One tenant ("default") trickles bodies or stalls chunked ones;
 * another tenant ("acme") must keep ingesting, promptly, and the server's memory must not follow
 * the attacker's declared or streamed sizes.
 */

const MiB = 1024 * 1024
const EVENT = JSON.stringify([{ event: 'spin', user_id: 'victim-1', bet: 1 }])

async function victimIngest(s: TestServer): Promise<{ status: number; ms: number }> {
  const t0 = performance.now()
  const res = await fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(s.keys.acme), 'content-type': 'application/json' }, body: EVENT, signal: AbortSignal.timeout(5_000) })
  await res.arrayBuffer()
  return { status: res.status, ms: performance.now() - t0 }
}

describe('slow-body attack (Content-Length declared, a byte at a time)', () => {
  let s: TestServer
  const attackers: RawRequest[] = []
  afterAll(async () => {
    for (const a of attackers) a.socket.destroy()
    await s?.close()
  })

  it("leaves another tenant's ingest answering 200 within a deadline, and times the trickle out", async () => {
    s = await startTestServer({
      limits: { maxBodyBytes: 1 * MiB, maxEvents: 10_000 },
      // Tenant share: a quarter of 4 MiB. Timeouts short so the test is short; defaults in docs/api.md.
      backpressure: { maxInflightBytes: 4 * MiB, maxEngineLag: 1e9, retryAfterSeconds: 1 },
      http: { requestTimeoutMs: 60_000, bodyTimeoutMs: 2_500, bodyIdleTimeoutMs: 1_500 },
    })
    // 8 × 1 MiB declared = twice the whole budget: on the old code every other tenant got 429.
    for (let i = 0; i < 8; i++) attackers.push(openRaw(s.url, postHead('/v1/events', s.keys.write, { 'content-length': String(1 * MiB) })))
    const trickle = setInterval(() => {
      for (const a of attackers) if (!a.socket.destroyed) a.socket.write('[')
    }, 400)
    try {
      await sleep(300)
      for (let i = 0; i < 5; i++) {
        const r = await victimIngest(s)
        expect(r.status).toBe(200)
        expect(r.ms).toBeLessThan(1_000)
        await sleep(100)
      }
      // The attacker's tenant gets 429 beyond its share, at once; one connection is admitted.
      const refused = await Promise.all(attackers.slice(1).map((a) => within(a.status, 2_000, 'attacker refusal')))
      expect(refused.every((c) => c === 429)).toBe(true)
      // The admitted trickle is cut off by the body deadline: 408, and the connection closed.
      const first = await within(attackers[0]!.status, 5_000, 'trickling body')
      expect(first).toBe(408)
      expect(attackers[0]!.received()).toContain('body_timeout')
    } finally {
      clearInterval(trickle)
    }
    const metrics = await (await fetch(`${s.url}/metrics`)).text()
    expect(metrics).toMatch(/tagstream_limit_hits_total\{limit="tenant_inflight_bytes"\} [1-9]/)
    expect(metrics).toMatch(/tagstream_limit_hits_total\{limit="body_timeout"\} 1/)
  }, 20_000)

  it('refuses a declared Content-Length above the body limit with 413 before reading a byte', async () => {
    const a = openRaw(s.url, postHead('/v1/events', s.keys.write, { 'content-length': String(256 * MiB) }))
    attackers.push(a)
    expect(await within(a.status, 1_000, 'declared 256 MiB')).toBe(413)
    expect(a.received()).toContain('payload_too_large')
  })
})

describe('stalled chunked bodies', () => {
  let s: TestServer
  const socks: RawRequest[] = []
  afterAll(async () => {
    for (const a of socks) a.socket.destroy()
    await s?.close()
  })

  it('are counted in the in-flight budget as they arrive: memory stays bounded and another tenant ingests', async () => {
    s = await startTestServer({
      limits: { maxBodyBytes: 8 * MiB, maxEvents: 10_000 },
      backpressure: { maxInflightBytes: 64 * MiB, maxTenantInflightBytes: 16 * MiB, maxEngineLag: 1e9, retryAfterSeconds: 1 },
      http: { requestTimeoutMs: 60_000, bodyTimeoutMs: 60_000, bodyIdleTimeoutMs: 60_000 },
    })
    const N = 60
    const PER = 4 * MiB
    const chunk = Buffer.alloc(64 * 1024, 0x20)
    const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])
    globalThis.gc?.()
    const before = process.memoryUsage().rss
    await Promise.all(
      Array.from({ length: N }, async () => {
        const r = openRaw(s.url, postHead('/v1/events', s.keys.write, { 'transfer-encoding': 'chunked' }))
        socks.push(r)
        // Then stall: never the last chunk. A refused request stops being read (and is closed).
        for (let sent = 0; sent < PER; sent += chunk.length) if (!(await writeDrained(r.socket, frame, 3_000))) break
      }),
    )
    await sleep(500)
    globalThis.gc?.()
    const after = process.memoryUsage().rss
    const grewMiB = (after - before) / MiB
    console.log(
      `stalled chunked: ${N} × ${PER / MiB} MiB sent; RSS ${(before / MiB).toFixed(0)} → ${(after / MiB).toFixed(0)} MiB (+${grewMiB.toFixed(0)}); in flight ${(s.ctx.inflight.bytes / MiB).toFixed(1)} MiB`,
    )
    // The old code held every stalled body (60 × 4 MiB = 240 MiB) and counted none of it.
    expect(s.ctx.inflight.bytes).toBeGreaterThan(0)
    expect(s.ctx.inflight.bytes).toBeLessThanOrEqual(16 * MiB)
    expect(grewMiB).toBeLessThan(120)
    const r = await victimIngest(s)
    expect(r.status).toBe(200)
    expect(r.ms).toBeLessThan(1_000)
  }, 30_000)
})
