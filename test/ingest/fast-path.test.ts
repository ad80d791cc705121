import { describe, expect, it } from 'vitest'
import { encodeEventsBody } from '../../src/ingest/fast-path.ts'
import { RequestIds } from '../../src/ingest/ids.ts'
import { parseEventsJson } from '../../src/ingest/parse.ts'
import { decodeEvent } from '../../src/events/index.ts'
import { T0, body } from './fast-path-bodies.ts'
import { SEED, TENANT, differential as compare, fastPath as encoded, type Readers } from './differential.ts'

/*
 * The collector fast path against the general path (parseEventsJson, sortBatch) on generated bodies:
 * ./differential.ts has the argument.
 */

/** The body is a non-empty array, or {"batch": a non-empty array} and nothing else. */
function readsShape(bytes: Buffer): boolean {
  const v = JSON.parse(bytes.toString('utf8').replace(/^\ufeff/, '')) as unknown
  if (Array.isArray(v)) return v.length > 0
  const keys = typeof v === 'object' && v !== null ? Object.keys(v) : []
  const batch = (v as { batch?: unknown }).batch
  return keys.length === 1 && keys[0] === 'batch' && Array.isArray(batch) && batch.length > 0
}

const OURS: Readers = { parse: parseEventsJson, encode: encodeEventsBody, readsShape }

const differential = (seed: number, count: number, options: { awkward: boolean; maxElements: number; maxEvents: number }) => compare(OURS, body, seed, count, options)
const fastPath = (bytes: Buffer, receivedAt: number, maxEvents: number, pre: readonly string[]) => encoded(OURS, bytes, receivedAt, maxEvents, pre)

describe('collector fast path', () => {
  it('encodes common bodies exactly as the slow path, without falling back', async () => {
    const stats = await differential(1, 300, { awkward: false, maxElements: 200, maxEvents: 1000 })
    expect(stats.declined).toBe(0)
    expect(stats.events).toBeGreaterThan(10_000)
    expect(stats.slowElements).toBe(0)
    expect(stats.timeChanged).toBe(0)
  })

  it('matches the slow path byte for byte on awkward bodies, or declines them', async () => {
    const stats = await differential(2, 3000, { awkward: true, maxElements: 40, maxEvents: 1000 })
    // The generator must exercise both sides: accepted bodies with rejections and duplicates, and declines.
    expect(stats.accepted).toBeGreaterThan(1500)
    expect(stats.declined).toBeGreaterThan(100)
    expect(stats.needless).toBe(0)
    expect(stats.rejected).toBeGreaterThan(500)
    expect(stats.duplicates).toBeGreaterThan(50)
    expect(stats.slowElements).toBeLessThan(stats.events + stats.rejected + stats.duplicates)
    // Times the server changes: clamped or corrected events, bad per-event sent_at, batches with a sent_at.
    expect(stats.timeChanged).toBeGreaterThan(400)
    expect(stats.sentAtRejected).toBeGreaterThan(300)
    expect(stats.batchSentAt).toBeGreaterThan(30)
  }, 60_000)

  it('declines a body with more events than allowed, leaving the 413 to the slow path', async () => {
    const stats = await differential(3, 200, { awkward: false, maxElements: 30, maxEvents: 15 })
    expect(stats.declined).toBeGreaterThan(50)
    expect(stats.accepted).toBeGreaterThan(50)
  })

  it('decodes to the events validateEvent makes, ids included', async () => {
    const bytes = Buffer.from(
      `[{"event":"spin","user_id":"u1","ts":${T0},"bet":5,"s":"h\\u00e9\\ud83d\\ude00","n":-0,"f":1.5e-7,"t":true,"z":null},` +
        `{"event":"x","anonymous_id":12,"event_id":"e-1"},{"event":"y","user_id":7,"anonymous_id":"a","ts":"2026-06-15T10:00:00Z","nested":{"a":[1]}}]`,
    )
    const { body: encoded } = await fastPath(bytes, T0 + 5, 1000, [])
    expect(encoded).not.toBeNull()
    const events = encoded!.groups.flat().map((r) => decodeEvent(r.value))
    const byName = new Map(events.map((e) => [e.event, e]))
    const ids = new RequestIds(T0 + 5, SEED)
    expect(byName.get('spin')).toEqual({
      event: 'spin',
      user_id: 'u1',
      ts: T0,
      event_id: ids.next(),
      tenant: TENANT,
      received_at: T0 + 5,
      properties: { bet: 5, s: 'hé😀', n: -0, f: 1.5e-7, t: true, z: null },
    })
    expect(byName.get('x')).toEqual({ event: 'x', user_id: '12', anonymous_id: '12', ts: T0 + 5, event_id: 'e-1', tenant: TENANT, received_at: T0 + 5, properties: {} })
    expect(byName.get('y')).toMatchObject({ user_id: '7', anonymous_id: 'a', ts: Date.UTC(2026, 5, 15, 10), event_id: ids.next(), properties: { nested: { a: [1] } } })
    // The nested element took the slow path, and in the JSON format (the default) so did the one
    // with an escaped string (its bytes are JSON.stringify's, not the client's spelling).
    expect(encoded!.validated).toBe(2)
  })

  it('writes the same ids as RequestIds.next', () => {
    const a = new RequestIds(T0, SEED)
    const b = new RequestIds(T0, SEED)
    const buf = Buffer.alloc(40)
    for (let i = 0; i < 5000; i++) {
      b.writeNext(new DataView(buf.buffer, buf.byteOffset + 4, 36), 0)
      expect(buf.toString('latin1', 4)).toBe(a.next())
    }
  })
})
