import { describe, expect, it } from 'vitest'
import { TOPICS } from '../../src/log/event-log.ts'
import { auth, useTestServer } from '../api/harness.ts'

/*
 * `tagstream serve` runs the warehouse sink in a thread of its own; its poison records and type
 * conflicts reach the server's /metrics (docs/operations.md, "Outputs").
 */

describe('tagstream serve counts what its warehouse sink could not write', () => {
  const s = useTestServer({ clockTickMs: 0 })

  it('moves tagstream_warehouse_poison_records_total and tagstream_warehouse_type_conflicts_total', async () => {
    const before = await (await fetch(`${s.url}/metrics`)).text()
    expect(before).toContain('tagstream_warehouse_type_conflicts_total 0')
    // Another producer's records: a JSON array and bytes that are no event, then a segment change that is not one.
    await s.ctx.log.append(TOPICS.events, 0, [
      { key: null, value: Buffer.from('[1,2]') },
      { key: null, value: Buffer.of(7, 7, 7) },
    ])
    await s.ctx.log.append(TOPICS.segmentChanges, 0, [{ key: null, value: Buffer.from('not json') }])
    // One user, one day, one event: one file, whose `level` column is a number with a string among them.
    const t0 = Date.UTC(2026, 10, 3, 10)
    const events = [1, 2, 3, 'high'].map((level, i) => ({ event: 'level_up', user_id: 'm1', ts: t0 + i, level }))
    const posted = await fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(s.keys.write), 'content-type': 'application/json' }, body: JSON.stringify(events) })
    expect(posted.status).toBe(200)

    const want = [
      /tagstream_warehouse_poison_records_total\{stream="events"\} 2\n/,
      /tagstream_warehouse_poison_records_total\{stream="segment-changes"\} 1\n/,
      /tagstream_warehouse_type_conflicts_total 1\n/,
    ]
    let text = ''
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((done) => setTimeout(done, 250))) {
      text = await (await fetch(`${s.url}/metrics`)).text()
      if (want.every((re) => re.test(text))) break
    }
    for (const re of want) expect(text).toMatch(re)
    expect(text).toMatch(/tagstream_warehouse_poison_records_total\{stream="notifications"\} 0\n/)
  })
})
