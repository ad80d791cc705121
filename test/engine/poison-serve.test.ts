/**
 * Poison records in `tagstream serve` (embedded log, engine thread): the engine thread hands the
 * dead letters to the main thread (the log's writer), /metrics counts them from the engine
 * snapshot, GET /v1/dead-letters lists them for their tenant, and the partition stays ready.
 */
import { describe, expect, it } from 'vitest'
import { partitionFor } from '../../src/events/index.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { auth, useTestServer } from '../api/harness.ts'

const s = useTestServer({ clockTickMs: 0 })

async function until<T>(what: string, get: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await get()
    if (done(v)) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('poison records in serve', () => {
  it('dead-letters a bad record through the main thread, counts it in /metrics, and applies the flat JSON event after it', async () => {
    const partition = partitionFor('default:p1', s.ctx.partitions)
    const now = Date.now()
    // What a third-party producer might put into the topic; in serve the main thread is the writer.
    await s.ctx.log.append(TOPICS.events, partition, [
      { key: 'default:p1', value: Buffer.from('{"event":"purchase","user_id":"p1","amount":'), timestamp: now },
      { key: 'default:p1', value: Buffer.from(JSON.stringify({ event: 'purchase', user_id: 'p1', amount: 12 })), timestamp: now },
    ])
    const metric = await until(
      'the poison metric',
      async () => (await (await fetch(`${s.url}/metrics`)).text()).match(/^tagstream_engine_poison_records (\d+)/m)?.[1] ?? null,
      (v) => v === '1',
    )
    expect(metric).toBe('1')
    const profile = await until(
      'the flat JSON purchase',
      async () => (await fetch(`${s.url}/v1/profiles/p1`, { headers: auth(s.keys.read) })).json() as Promise<{ traits?: { total_purchases: number } }>,
      (p) => p.traits?.total_purchases === 12,
    )
    expect(profile.traits?.total_purchases).toBe(12)
    const letters = await until(
      'the dead letter',
      async () => (await (await fetch(`${s.url}/v1/dead-letters`, { headers: auth(s.keys.read) })).json()) as { dead_letters: Array<Record<string, unknown>> },
      (b) => b.dead_letters.some((d) => d.source === 'engine'),
    )
    const d = letters.dead_letters.find((x) => x.source === 'engine')!
    expect(d.reason).toMatch(/^invalid JSON: /)
    expect(d.field).toBe('(record)')
    expect((await fetch(`${s.url}/readyz`)).status).toBe(200)
  })
})
