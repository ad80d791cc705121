import { afterAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from './harness.ts'
import { openRaw, postHead, sleep, within, type RawRequest } from './hostile-http.ts'

/*
 * PostHog's routes read a body before they know its key (the key is inside it). Without a key, an
 * attacker's slow bodies must still be bounded like anyone's: one in-flight share for all PostHog
 * bodies not yet read, the body deadline, and no effect on tenants sending with a key.
 */

const MiB = 1024 * 1024

describe('unauthenticated slow bodies on /batch/', () => {
  let s: TestServer
  const attackers: RawRequest[] = []
  afterAll(async () => {
    for (const a of attackers) a.socket.destroy()
    await s?.close()
  })

  it("are refused beyond one share, timed out, and leave keyed tenants' ingest prompt", async () => {
    s = await startTestServer({
      limits: { maxBodyBytes: 1 * MiB, maxEvents: 10_000 },
      backpressure: { maxInflightBytes: 4 * MiB, maxEngineLag: 1e9, retryAfterSeconds: 1 },
      http: { requestTimeoutMs: 60_000, bodyTimeoutMs: 2_500, bodyIdleTimeoutMs: 1_500 },
    })
    // No key anywhere (postHead's Bearer is a key nobody has, and /batch/ reads only the body's).
    for (let i = 0; i < 8; i++) attackers.push(openRaw(s.url, postHead('/batch/', 'nobody', { 'content-length': String(1 * MiB) })))
    const trickle = setInterval(() => {
      for (const a of attackers) if (!a.socket.destroyed) a.socket.write('{')
    }, 400)
    try {
      await sleep(300)
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now()
        const basic = `Basic ${Buffer.from(`${s.keys.acme}:`).toString('base64')}`
        const res = await fetch(`${s.url}/v1/batch`, {
          method: 'POST',
          headers: { authorization: basic, 'content-type': 'application/json' },
          body: JSON.stringify({ batch: [{ type: 'track', userId: 'victim', event: 'spin' }] }),
          signal: AbortSignal.timeout(5_000),
        })
        expect(res.status).toBe(200)
        await res.arrayBuffer()
        expect(performance.now() - t0).toBeLessThan(1_000)
        await sleep(100)
      }
      const refused = await Promise.all(attackers.slice(1).map((a) => within(a.status, 2_000, 'attacker refusal')))
      expect(refused.every((c) => c === 429)).toBe(true)
      expect(await within(attackers[0]!.status, 5_000, 'trickling body')).toBe(408)
    } finally {
      clearInterval(trickle)
    }
    // Nothing of the attack was kept: no event, no dead letter (it never had a tenant).
    for (let p = 0; p < s.ctx.partitions; p++) expect(await s.ctx.log.read('dead-letters', p, 0)).toEqual([])
  }, 20_000)
})
