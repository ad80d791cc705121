import type { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { auth, useTestServer } from './harness.ts'

/*
 * Issue 15, item 6: reads of a dead engine thread answer 503 engine_unavailable at once; /readyz says so.
 * The server starts a new thread after 1 s (engine-restart.test.ts): these checks run well within that.
 */

describe('a dead engine thread', () => {
  const s = useTestServer()

  it('makes reads answer 503 engine_unavailable within a second or two, and /readyz not ready', async () => {
    const ok = await fetch(`${s.url}/v1/segments`, { headers: auth(s.keys.read) })
    expect(ok.status).toBe(200)
    // The supervisor exposes the current thread's Worker; terminating it is what a crash looks like from here.
    await (s.ctx.engine as unknown as { worker: Worker }).worker.terminate()
    for (const path of ['/v1/profiles/17', '/v1/segments', '/v1/profiles?limit=5', '/v1/segments/spinner/members']) {
      const t0 = performance.now()
      const res = await fetch(`${s.url}${path}`, { headers: auth(s.keys.read), signal: AbortSignal.timeout(5_000) })
      const ms = performance.now() - t0
      expect(res.status, path).toBe(503)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('engine_unavailable')
      expect(ms).toBeLessThan(2_000)
    }
    const ready = await fetch(`${s.url}/readyz`)
    expect(ready.status).toBe(503)
    expect(((await ready.json()) as { status: string }).status).toBe('failed')
  })
})
