import { describe, expect, it } from 'vitest'
import { auth, useTestServer } from '../api/harness.ts'

describe('tagstream serve writes the warehouse as events arrive', () => {
  const s = useTestServer()

  it('answers SQL and reports over events posted to the collector', async () => {
    const t0 = Date.UTC(2026, 10, 1, 10)
    const events = Array.from({ length: 300 }, (_, i) => ({ event: i % 3 ? 'spin' : 'purchase', user_id: `u${i % 17}`, ts: t0 + i, amount: 2, host: `user${i}.earthlink.com` }))
    const posted = await fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(s.keys.write), 'content-type': 'application/json' }, body: JSON.stringify(events) })
    expect(posted.status).toBe(200)
    const query = () =>
      fetch(`${s.url}/v1/query`, { method: 'POST', headers: { ...auth(s.keys.admin), 'content-type': 'application/json' }, body: JSON.stringify({ sql: 'SELECT event, count(*)::INTEGER AS n FROM events GROUP BY event ORDER BY event' }) })
    const deadline = Date.now() + 20_000
    let rows: unknown[][] = []
    while (Date.now() < deadline) {
      const r = await query()
      expect(r.status).toBe(200)
      rows = ((await r.json()) as { rows: unknown[][] }).rows
      if (rows.length === 2) break
      await new Promise((done) => setTimeout(done, 250))
    }
    expect(rows).toEqual([
      ['purchase', 100],
      ['spin', 200],
    ])
    const report = await fetch(`${s.url}/v1/reports/popular_events`, { headers: auth(s.keys.read) })
    expect(report.status).toBe(200)
    expect(JSON.stringify(await report.json())).toContain('spin')
  })
})
