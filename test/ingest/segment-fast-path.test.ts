import { describe, expect, it } from 'vitest'
import { decodeEvent } from '../../src/events/index.ts'
import { RequestIds } from '../../src/ingest/ids.ts'
import { encodeSegmentBatch } from '../../src/ingest/segment/fast-path.ts'
import { parseSegmentJson } from '../../src/ingest/segment/parse.ts'
import { T0 } from './fast-path-bodies.ts'
import { SEED, TENANT, differential, fastPath, type Readers } from './differential.ts'
import { segmentBody } from './segment-bodies.ts'

/*
 * The Segment batch reader against the general path (parseSegmentJson: JSON.parse, fromSegment,
 * validateEvent, sortBatch) on generated bodies; ./differential.ts has the argument.
 */

/** {"batch": a non-empty array, …} with a sentAt that is a time, absent or null. */
function readsShape(bytes: Buffer): boolean {
  const v = JSON.parse(bytes.toString('utf8').replace(/^\ufeff/, '')) as unknown
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const { batch, sentAt } = v as { batch?: unknown; sentAt?: unknown }
  return Array.isArray(batch) && batch.length > 0 && (sentAt === undefined || sentAt === null || typeof sentAt === 'string' || typeof sentAt === 'number')
}

const SEGMENT: Readers = { parse: (text, bytes, maxEvents) => parseSegmentJson(text, bytes, 'batch', maxEvents), encode: encodeSegmentBatch, readsShape }

describe('Segment batch fast path', () => {
  it('encodes batches as the SDKs send them exactly as the general path, without falling back', async () => {
    const stats = await differential(SEGMENT, segmentBody, 11, 300, { awkward: false, maxElements: 100, maxEvents: 1000 })
    expect(stats.declined).toBe(0)
    expect(stats.events).toBeGreaterThan(10_000)
    expect(stats.slowElements).toBe(0)
    // Nearly every timestamp is corrected by the batch's sentAt: the client's value is kept as original_ts.
    expect(stats.timeChanged).toBeGreaterThan(stats.events * 0.8)
  })

  it('matches the general path byte for byte on awkward bodies, or declines them', async () => {
    const stats = await differential(SEGMENT, segmentBody, 12, 3000, { awkward: true, maxElements: 30, maxEvents: 1000 })
    if (process.env.FAST_PATH_DEBUG) console.log(stats)
    expect(stats.accepted).toBeGreaterThan(1500)
    expect(stats.declined).toBeGreaterThan(100)
    // Declined though the general path takes them: bodies that repeat "batch" or "sentAt" or escape a
    // top-level key (JSON.parse keeps the last of repeated keys; that rule stays in one place).
    expect(stats.needless).toBeLessThan(100)
    expect(stats.rejected).toBeGreaterThan(500)
    expect(stats.duplicates).toBeGreaterThan(50)
    // Awkward messages went the general way one by one, the others were read here.
    expect(stats.slowElements).toBeGreaterThan(1000)
    expect(stats.slowElements).toBeLessThan((stats.events + stats.rejected + stats.duplicates) * 0.7)
    expect(stats.sentAtRejected).toBeGreaterThan(20)
  }, 120_000)

  it('declines a batch with more messages than allowed, leaving the 413 to the general path', async () => {
    const stats = await differential(SEGMENT, segmentBody, 13, 200, { awkward: false, maxElements: 30, maxEvents: 15 })
    expect(stats.declined).toBeGreaterThan(50)
    expect(stats.accepted).toBeGreaterThan(50)
  })

  it('decodes to the events the mapping and validateEvent make', async () => {
    const sent = T0 - 1000
    const bytes = Buffer.from(
      JSON.stringify({
        batch: [
          {
            type: 'track',
            event: 'in_app_purchase',
            userId: 'u1',
            messageId: 'm-1',
            timestamp: new Date(T0 - 61_000).toISOString(),
            properties: { amount: 4.99, item: 'gems' },
            context: { library: { name: 'analytics-node' } },
            integrations: {},
            channel: 'server',
          },
          { type: 'identify', anonymousId: 'd1', userId: 42, traits: { plan: 'gold' }, _metadata: { jsRuntime: 'node' } },
          { type: 'page', userId: 'u1', name: 'Home', category: 'Docs', properties: { path: '/' } },
          { type: 'group', userId: 'u1', groupId: 'g-1' },
        ],
        sentAt: new Date(sent).toISOString(),
      }),
    )
    const { body } = await fastPath(SEGMENT, bytes, T0, 1000, [])
    expect(body).not.toBeNull()
    const events = body!.groups.flat().map((r) => decodeEvent(r.value))
    const byName = new Map(events.map((e) => [e.event, e]))
    const ids = new RequestIds(T0, SEED)
    expect(byName.get('in_app_purchase')).toEqual({
      event: 'in_app_purchase',
      user_id: 'u1',
      ts: T0 - 60_000,
      event_id: 'm-1',
      tenant: TENANT,
      received_at: T0,
      properties: { amount: 4.99, item: 'gems', channel: 'server', context: { library: { name: 'analytics-node' } }, original_ts: T0 - 61_000 },
    })
    expect(byName.get('identify')).toEqual({ event: 'identify', user_id: '42', anonymous_id: 'd1', ts: T0, event_id: ids.next(), tenant: TENANT, received_at: T0, properties: { plan: 'gold' } })
    expect(byName.get('page')).toMatchObject({ user_id: 'u1', properties: { path: '/', name: 'Home', category: 'Docs' } })
    expect(byName.get('group')).toMatchObject({ user_id: 'u1', properties: { group_id: 'g-1' } })
    // The group call took the general path; the other three did not.
    expect(body!.validated).toBe(1)
  })
})
