import { describe, expect, it } from 'vitest'
import { auth, useTestServer } from '../api/harness.ts'

describe('tagstream serve writes the warehouse as events arrive', () => {
  // Fixed event times of November: the engine's clock moves with events only, not with today's.
  const s = useTestServer({ clockTickMs: 0 })

  it('answers SQL and reports over events posted to the collector', async () => {
    const t0 = Date.UTC(2026, 10, 1, 10)
    const events = Array.from({ length: 300 }, (_, i) => ({ event: i % 3 ? 'spin' : 'purchase', user_id: `u${i % 17}`, ts: t0 + i, amount: 2, host: `user${i}.earthlink.com` }))
    const posted = await fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(s.keys.write), 'content-type': 'application/json' }, body: JSON.stringify(events) })
    expect(posted.status).toBe(200)
    const query = () =>
      fetch(`${s.url}/v1/query`, {
        method: 'POST',
        headers: { ...auth(s.keys.operator), 'content-type': 'application/json' },
        body: JSON.stringify({ sql: 'SELECT event, count(*)::INTEGER AS n FROM events GROUP BY event ORDER BY event' }),
      })
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
  it('copies the segment-change and notification streams into their views', async () => {
    const t0 = Date.UTC(2026, 10, 2, 10)
    const events = [
      ...Array.from({ length: 40 }, (_, i) => ({ event: 'spin', user_id: `s${i % 8}`, ts: t0 + i * 1000 })),
      ...Array.from({ length: 5 }, (_, i) => ({ event: 'add_to_cart', user_id: `c${i}`, ts: t0 + i, cart_amount: 10 + i })),
    ]
    const posted = await fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(s.keys.write), 'content-type': 'application/json' }, body: JSON.stringify(events) })
    expect(posted.status).toBe(200)
    const sql = async (text: string): Promise<unknown[][]> => {
      const r = await fetch(`${s.url}/v1/query`, { method: 'POST', headers: { ...auth(s.keys.operator), 'content-type': 'application/json' }, body: JSON.stringify({ sql: text }) })
      expect(r.status).toBe(200)
      return ((await r.json()) as { rows: unknown[][] }).rows
    }
    const deadline = Date.now() + 30_000
    let changes: unknown[][] = []
    let notes: unknown[][] = []
    while (Date.now() < deadline) {
      changes = await sql(`SELECT user_id, segment, change, strftime("at", '%Y-%m-%d') AS day FROM segment_changes WHERE user_id LIKE 's%' ORDER BY user_id`)
      notes = await sql(`SELECT user_id, "trigger", event, json_extract(properties, '$.cart_amount')::DOUBLE AS amount FROM notifications ORDER BY user_id`)
      if (changes.length === 8 && notes.length === 5) break
      await new Promise((done) => setTimeout(done, 250))
    }
    expect(changes).toEqual(Array.from({ length: 8 }, (_, i) => [`s${i}`, 'spinner', 'entered', '2026-11-02']))
    expect(notes).toEqual(Array.from({ length: 5 }, (_, i) => [`c${i}`, 'cart_push', 'add_to_cart', 10 + i]))
    expect(await sql(`SELECT user_id, event_count::INTEGER, segments FROM profiles WHERE user_id IN ('s3', 'c1') ORDER BY user_id`)).toEqual([
      ['c1', 1, []],
      ['s3', 5, ['spinner']],
    ])
    const report = await fetch(`${s.url}/v1/reports/segment_sizes_over_time`, { headers: auth(s.keys.read) })
    expect(report.status).toBe(200)
    const body = (await report.json()) as { rows: unknown[][] }
    expect(body.rows.length).toBeGreaterThan(0)
  })
})
