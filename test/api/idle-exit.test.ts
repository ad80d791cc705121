import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auth, startTestServer, type TestServer } from './harness.ts'

const RULES = `
segments:
  busy:
    when: count(spin, 2s) >= 3
    keep: 1s
`

interface ProfileBody {
  segments: Array<{ segment: string }>
  metrics: Record<string, number | null>
}

/**
 * The reported failure: with no traffic, a user stayed in a 1-minute-window segment and the
 * profile still showed the spins, until other users' events moved the clock. Over HTTP, one user
 * and nothing else: the user must leave on time and the profile must show the window as of now.
 */
describe('a quiet server still untags: time follows the wall clock', () => {
  let s: TestServer
  beforeAll(async () => {
    s = await startTestServer({}, RULES)
  })
  afterAll(async () => {
    await s.close()
  })

  const profile = async (): Promise<ProfileBody | null> => {
    const res = await fetch(`${s.url}/v1/profiles/loner`, { headers: auth(s.keys.read) })
    return res.status === 200 ? ((await res.json()) as ProfileBody) : null
  }

  it('takes the only user out of a 2s window (keep 1s) with no other event, and the profile shows the window empty', async () => {
    const now = Date.now()
    const body = [0, 1, 2].map((i) => ({ event: 'spin', user_id: 'loner', ts: now + i }))
    const res = await fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(s.keys.write), 'content-type': 'application/json' }, body: JSON.stringify(body) })
    expect(res.status).toBe(200)
    const states: Array<{ at: number; member: boolean; count: number | null | undefined }> = []
    const deadline = Date.now() + 12_000
    while (Date.now() < deadline) {
      const p = await profile()
      if (p) states.push({ at: Date.now(), member: p.segments.some((x) => x.segment === 'busy'), count: p.metrics['count(spin, 2s)'] })
      if (states.some((x) => x.member) && states.at(-1)?.member === false) break
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(states.some((x) => x.member)).toBe(true)
    const last = states.at(-1)!
    expect(last.member).toBe(false)
    expect(last.count).toBe(0)
    // Due 2s (window, 16 ms buckets) + 1s (keep) after the first spin; the clock record trails the
    // wall clock by its 1s margin and comes at most every second.
    const due = (Math.floor(now / 16) + 125) * 16 + 1_000
    expect(last.at).toBeGreaterThan(due)
    expect(last.at - due).toBeLessThan(4_000)
  })
})
