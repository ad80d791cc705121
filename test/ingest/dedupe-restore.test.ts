import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Deduper } from '../../src/ingest/dedupe.ts'
import { clientId, restoreDedupe } from '../../src/ingest/dedupe-restore.ts'
import { encodeClockRecord } from '../../src/events/clock-record.ts'
import { encodeEvent, type TrackedEvent } from '../../src/events/index.ts'
import { validateEvent } from '../../src/events/validate.ts'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { mulberry32 } from '../support/prng.ts'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'tagstream-dedupe-restore-'))
  dirs.push(d)
  return d
}

const NOW = Date.UTC(2026, 11, 2, 12)
const HORIZON = 10 * 60_000
const key = Deduper.key

/** An event as the collector stores it: `id` undefined means the server assigned one. */
function stored(tenant: string, user: string, receivedAt: number, id: string | undefined): TrackedEvent {
  const v = validateEvent({ event: 'spin', user_id: user, ...(id === undefined ? {} : { event_id: id }) }, { tenant, receivedAt })
  if (!v.ok) throw new Error('bad fixture')
  return v.event
}

describe('restoring the dedupe horizon from the log', () => {
  it('marks client ids received within the horizon, at their receive times; skips server ids, old ids, clocks, foreign and poison records', async () => {
    const { log, partitions } = await openEventLog(join(fresh(), 'log'), { partitions: 3 })
    try {
      const events = [
        stored('default', 'a', NOW - HORIZON - 1, 'too-old'),
        stored('default', 'a', NOW - HORIZON + 1, 'just-in'),
        stored('default', 'b', NOW - 5_000, 'recent'),
        stored('acme', 'b', NOW - 5_000, 'recent'),
        stored('default', 'c', NOW - 1_000, undefined),
      ]
      await appendEvents(log, events, partitions)
      const serverId = events[4]!.event_id
      for (let p = 0; p < partitions; p++) {
        await log.append(TOPICS.events, p, [
          { key: null, value: encodeClockRecord(NOW - 500) },
          { key: 'x', value: Buffer.from(JSON.stringify({ event: 'spin', user_id: 'j', event_id: 'foreign' })) },
          { key: 'x', value: Buffer.from([1, 0, 0, 0]) },
          { key: 'x', value: Buffer.from(encodeEvent(stored('default', 'p', NOW - 100, 'cut-short'))).subarray(0, 30) },
        ])
      }
      const d = new Deduper({ horizonMs: HORIZON, maxEntries: 100 })
      const res = await restoreDedupe(d, log, partitions, NOW)
      expect(res.ids).toBe(3)
      expect(d.claim(key('default', 'just-in'), NOW)).toBe(false)
      expect(d.claim(key('default', 'recent'), NOW)).toBe(false)
      expect(d.claim(key('acme', 'recent'), NOW)).toBe(false)
      // Forgotten once the horizon since its receive time has passed, as if accepted live.
      const later = new Deduper({ horizonMs: HORIZON, maxEntries: 100 })
      await restoreDedupe(later, log, partitions, NOW + 2)
      expect(later.claim(key('default', 'just-in'), NOW + 2)).toBe(true)
      for (const id of ['too-old', serverId, 'foreign', 'cut-short']) expect(d.claim(key('default', id), NOW)).toBe(true)
    } finally {
      await log.close()
    }
  })

  it('keeps the newest maxEntries ids across partitions, and reads little of a long log older than the horizon', async () => {
    const { log, partitions } = await openEventLog(join(fresh(), 'log'), { partitions: 4 })
    try {
      const rand = mulberry32(7)
      // 20,000 events over three horizons, in receive order; ids i, the newest carry the highest i.
      const n = 20_000
      const span = 3 * HORIZON
      const events: TrackedEvent[] = []
      for (let i = 0; i < n; i++) events.push(stored('default', `u${Math.floor(rand() * 500)}`, NOW - span + Math.floor((i * span) / n), `id-${i}`))
      for (let i = 0; i < n; i += 2000) await appendEvents(log, events.slice(i, i + 2000), partitions)
      const inside = events.filter((e) => e.received_at > NOW - HORIZON)

      const all = new Deduper({ horizonMs: HORIZON, maxEntries: n })
      const res = await restoreDedupe(all, log, partitions, NOW)
      expect(res.ids).toBe(inside.length)
      // The binary search skips the two horizons before: about a third read, plus probes and slack.
      expect(res.records).toBeLessThan(inside.length * 1.2)
      for (const e of events) expect(all.claim(key('default', e.event_id), NOW), e.event_id).toBe(e.received_at <= NOW - HORIZON)

      const capped = new Deduper({ horizonMs: HORIZON, maxEntries: 1000 })
      await restoreDedupe(capped, log, partitions, NOW)
      expect(capped.size).toBe(1000)
      const newest = new Set(inside.slice(-1000).map((e) => e.event_id))
      for (const e of inside) expect(capped.claim(key('default', e.event_id), NOW)).toBe(!newest.has(e.event_id))
    } finally {
      await log.close()
    }
  })

  it('reads the client id of a binary event and nothing from anything else', () => {
    const e = stored('acme', 'u', NOW, 'id-1')
    const b = Buffer.from(encodeEvent({ ...e, anonymous_id: 'anon' }))
    expect(clientId(b, 0, b.length)).toEqual({ key: key('acme', 'id-1'), at: NOW })
    const rand = mulberry32(3)
    // Truncations and random bytes never throw.
    for (let cut = 0; cut < b.length; cut++) clientId(b, 0, cut)
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.from(Array.from({ length: Math.floor(rand() * 80) }, () => Math.floor(rand() * 256)))
      if (junk.length > 0) junk[0] = 1
      clientId(junk, 0, junk.length)
    }
  })
})
