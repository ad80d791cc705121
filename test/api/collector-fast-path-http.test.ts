import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ApiContext } from '../../src/api/context.ts'
import { ORIGINAL_TS, decodeEvent, isEngineRecord, type TrackedEvent } from '../../src/events/index.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { rng, body } from '../ingest/fast-path-bodies.ts'
import { segmentBody } from '../ingest/segment-bodies.ts'
import { auth, parsedEvents as parsed, startTestServer, type TestServer } from './harness.ts'

/*
 * The fast path end to end: two real servers (embedded LMDB log, engine thread), one with the fast
 * path and one without (config.collectorFastPath false, TAGSTREAM_COLLECTOR_FAST_PATH=0 in `serve`), get the same requests in the same order.
 * Their answers must be identical, and so must their logs: every partition's events and dead
 * letters, in order — up to the receive time and the random bits of server-assigned ids, which
 * differ between any two requests.
 */

const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

let fast: TestServer
let slow: TestServer

beforeAll(async () => {
  // collectorFastPath: false is what `serve` makes of TAGSTREAM_COLLECTOR_FAST_PATH=0.
  slow = await startTestServer({ warehouse: false, collectorFastPath: false })
  fast = await startTestServer({ warehouse: false })
})

afterAll(async () => {
  await fast?.close()
  await slow?.close()
})

/** POST /v1/events with our Bearer key, or (`segment`) POST /v1/batch with the key as a Segment SDK sends it. */
async function post(s: TestServer, payload: Buffer, segment = false): Promise<{ status: number; body: unknown }> {
  const authorization = segment ? { authorization: `Basic ${Buffer.from(`${s.keys.write}:`).toString('base64')}` } : auth(s.keys.write)
  const res = await fetch(`${s.url}${segment ? '/v1/batch' : '/v1/events'}`, { method: 'POST', headers: { ...authorization, 'content-type': 'application/json' }, body: payload })
  return { status: res.status, body: (await res.json()) as unknown }
}

/** Every record of a topic, per partition in offset order, made comparable across servers. */
async function topic(ctx: ApiContext, name: string): Promise<unknown[][]> {
  const out: unknown[][] = []
  for (let p = 0; p < ctx.partitions; p++) {
    const records: unknown[] = []
    for (let offset = 0; ;) {
      const batch = await ctx.log.read(name, p, offset)
      if (batch.length === 0) break
      for (const r of batch) {
        if (name === TOPICS.events) {
          // The engine's clock records follow the wall clock, not the requests (identity records: its links).
          if (isEngineRecord(r.value)) continue
          const e = decodeEvent(r.value)
          // The generated bodies' own ids are never UUIDv7s: these are server-assigned. An event
          // without a time takes the receive time, as does one clamped to it. A time corrected by
          // sent_at is the receive time minus what the client sent: compared as that distance. (The
          // server wrote original_ts when it changed the time; the bodies never send a numeric one.)
          const changed = typeof e.properties[ORIGINAL_TS] === 'number'
          const ts = e.ts === e.received_at ? 'received' : changed ? `received - ${e.received_at - e.ts}` : e.ts
          records.push({ ...e, ts, received_at: 0, event_id: UUID7.test(e.event_id) ? 'assigned' : e.event_id, key: r.key, timestamp: r.timestamp === e.ts })
        } else records.push({ ...(JSON.parse(Buffer.from(r.value).toString()) as object), received_at: 0, key: r.key })
      }
      offset = batch[batch.length - 1]!.offset + 1
    }
    out.push(records)
  }
  return out
}

describe('collector fast path, end to end', () => {
  it('answers and logs exactly what the slow path does', async () => {
    const r = rng(7)
    const pre = ['pre-1', 'pre-2']
    // The dedupe horizon of both servers holds the same ids before the generated bodies arrive.
    const seed = Buffer.from(JSON.stringify(pre.map((id) => ({ event: 'seed', user_id: 'u0', event_id: id }))))
    expect(await post(fast, seed)).toEqual(await post(slow, seed))
    // Client times ahead of the receive time are made ten minutes ahead of the clock, so that both
    // servers clamp them (a millisecond ahead would be clamped by one and not by the other).
    const now = Date.now() + 10 * 60_000
    const bodies = [...Array.from({ length: 40 }, () => body(r, pre, { awkward: true, maxElements: 30, now })), ...Array.from({ length: 5 }, () => body(r, pre, { awkward: false, maxElements: 400 }))]
    let accepted = 0
    for (const b of bodies) {
      const a = await post(fast, b)
      expect(a, b.toString().slice(0, 300)).toEqual(await post(slow, b))
      accepted += (a.body as { accepted?: number }).accepted ?? 0
    }
    expect(accepted).toBeGreaterThan(500)
    // Both servers read every element; only one took the fast path for most of them.
    const f = await parsed(fast)
    const v = await parsed(slow)
    expect(v.fast).toBe(0)
    expect(f.fast + f.validated).toBe(v.validated)
    expect(f.fast).toBeGreaterThan(f.validated * 4)
    const events = await topic(fast.ctx, TOPICS.events)
    expect(events).toEqual(await topic(slow.ctx, TOPICS.events))
    // Among them, times the server clamped and times it corrected by sent_at.
    const changed = (events.flat() as Array<{ ts: number | string; properties: TrackedEvent['properties'] }>).filter((e) => typeof e.properties[ORIGINAL_TS] === 'number')
    expect(changed.filter((e) => e.ts === 'received').length).toBeGreaterThan(5)
    expect(changed.filter((e) => String(e.ts).startsWith('received - ')).length).toBeGreaterThan(2)
    expect(await topic(fast.ctx, TOPICS.deadLetters)).toEqual(await topic(slow.ctx, TOPICS.deadLetters))
  }, 60_000)

  it('answers and logs Segment batches (POST /v1/batch) exactly as the general path does', async () => {
    const r = rng(8)
    const pre = ['pre-1', 'pre-2']
    const before = { fast: await parsed(fast), slow: await parsed(slow) }
    // Times are made around ten minutes ahead, as above: a time the server clamps is clamped by both.
    const now = Date.now() + 10 * 60_000
    const bodies = [
      ...Array.from({ length: 40 }, () => segmentBody(r, pre, { awkward: true, maxElements: 30, now })),
      ...Array.from({ length: 5 }, () => segmentBody(r, pre, { awkward: false, maxElements: 300, now })),
    ]
    let accepted = 0
    for (const b of bodies) {
      const a = await post(fast, b, true)
      expect(a, b.toString().slice(0, 300)).toEqual(await post(slow, b, true))
      accepted += (a.body as { accepted?: number }).accepted ?? 0
    }
    expect(accepted).toBeGreaterThan(500)
    const f = await parsed(fast)
    const v = await parsed(slow)
    expect(v.fast).toBe(before.slow.fast)
    expect(f.fast - before.fast.fast).toBeGreaterThan((f.validated - before.fast.validated) * 2)
    const events = await topic(fast.ctx, TOPICS.events)
    expect(events).toEqual(await topic(slow.ctx, TOPICS.events))
    // Many messages had their timestamp corrected by the batch's sentAt (the others: clamped, or sent without one).
    const corrected = (events.flat() as Array<{ ts: number | string }>).filter((e) => String(e.ts).startsWith('received - '))
    expect(corrected.length).toBeGreaterThan(200)
    expect(await topic(fast.ctx, TOPICS.deadLetters)).toEqual(await topic(slow.ctx, TOPICS.deadLetters))
  }, 60_000)
})
