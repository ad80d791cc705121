import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RuleError } from '../../src/rules/index.ts'
import { auth, startTestServer, TEST_KEYS, type TestServer } from './harness.ts'

/*
 * An engine thread that dies while starting: `serve` stays up (the collector keeps accepting),
 * reads answer a prompt 503, and the engine comes up by itself once the cause is gone.
 *
 * The cause here is a segments file the thread cannot read (a directory in its place). A full disk
 * under a fresh state store would be the natural cause, but LMDB cannot be made to fail cleanly on a
 * full tmpfs: with no bytes free it dies of SIGBUS, with a few KB free of a heap-corruption abort,
 * taking the test process with it; with no inodes free the main thread's own store fails to open too.
 */

const RULES = 'segments:\n  spinner:\n    when: count(spin, 1h) >= 3\n'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Profile {
  counts: Record<string, number>
  segments: Array<{ segment: string }>
}

describe('an engine thread that fails at startup', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-engine-startup-'))
  let s: TestServer | undefined
  afterAll(async () => {
    await s?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('leaves the server up and degraded, then resumes by itself when the cause is gone', async () => {
    const segmentsPath = join(dir, 'segments.yaml')
    mkdirSync(segmentsPath)
    s = await startTestServer({ segmentsPath, dataDir: join(dir, 'data') })
    const url = s.url
    const ready = await fetch(`${url}/readyz`)
    expect(ready.status).toBe(503)
    expect(((await ready.json()) as { status: string; error: string }).error).toContain('EISDIR')
    const t0 = performance.now()
    const res = await fetch(`${url}/v1/profiles/early`, { headers: auth(s.keys.read), signal: AbortSignal.timeout(5_000) })
    expect(res.status).toBe(503)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('engine_unavailable')
    expect(performance.now() - t0).toBeLessThan(5_000)
    // The collector does not need the engine.
    const post = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { ...auth(s.keys.write), 'content-type': 'application/json' },
      body: JSON.stringify([0, 1, 2].map((k) => ({ event: 'spin', user_id: 'early', event_id: `early-${k}`, ts: Date.now() + k }))),
    })
    expect(post.status).toBe(200)

    rmSync(segmentsPath, { recursive: true })
    writeFileSync(segmentsPath, RULES)
    const read = async (): Promise<Profile | null> => {
      const p = await fetch(`${url}/v1/profiles/early`, { headers: auth(TEST_KEYS.read) })
      return p.status === 200 ? ((await p.json()) as Profile) : null
    }
    let profile = await read()
    for (const deadline = Date.now() + 15_000; profile?.counts.spin !== 3 && Date.now() < deadline; profile = await read()) await sleep(200)
    expect(profile?.counts.spin).toBe(3)
    expect(profile?.segments.map((x) => x.segment)).toContain('spinner')
    expect((await fetch(`${url}/readyz`)).status).toBe(200)
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^tagstream_engine_thread_restarts_total [1-9]/m)
  })

  it('still refuses to start on a rule error: a restart would fail the same way', async () => {
    const segmentsPath = join(dir, 'bad.yaml')
    writeFileSync(segmentsPath, 'segments:\n  broken:\n    when: count(spin, 1h) >=\n')
    await expect(startTestServer({ segmentsPath, dataDir: join(dir, 'bad') })).rejects.toBeInstanceOf(RuleError)
  })
})
