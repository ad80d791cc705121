/**
 * `serve`'s engine thread shows seed 000's progress figures on /metrics as worker "engine"
 * (docs/operations.md, "Progress lines"), set at each progress line.
 */
import { describe, expect, it } from 'vitest'
import { until } from '../support/until.ts'
import { auth, useTestServer } from './harness.ts'

describe("serve's progress series", () => {
  const s = useTestServer({ progressMs: 200 })

  it('counts the events the engine applied, the users it holds and those tagged', async () => {
    const ts = Date.now()
    const events = Array.from({ length: 40 }, (_, i) => ({ event: 'spin', user_id: `pm-${i % 8}`, ts: ts + i }))
    const res = await fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(s.keys.write), 'content-type': 'application/json' }, body: JSON.stringify(events) })
    expect(res.status).toBe(200)
    const value = (text: string, name: string) => Number(new RegExp(`^${name}\\{worker="engine"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)
    const text = await until('the progress series', async () => {
      const t = await (await fetch(`${s.url}/metrics`, { headers: auth(s.keys.admin) })).text()
      return value(t, 'tagstream_worker_processed_events') === 40 && value(t, 'tagstream_worker_tagged_users') === 8 ? t : null
    })
    // Eight users, five spins each: every one in `spinner` (three in an hour).
    expect(value(text, 'tagstream_worker_users')).toBe(8)
    expect(value(text, 'tagstream_worker_runtime_seconds')).toBeGreaterThan(0)
    expect(value(text, 'tagstream_worker_events_per_second')).toBeGreaterThan(0)
  })
})
