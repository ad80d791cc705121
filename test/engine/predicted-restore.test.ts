/**
 * A prediction event read before a checkpoint, while earlier events were still held ahead of the
 * watermark: the restore re-reads the log from the held position and holds those events again, but
 * not the prediction, whose effect the checkpoint already holds (docs/engine.md, "Exactly-once").
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { encodeEvent, PREDICTION_EVENT, type TrackedEvent } from '../../src/events/index.ts'
import { TOPICS, type AppendRecord, type EventLog } from '../../src/log/event-log.ts'
import { readRange } from '../../src/log/read-range.ts'
import type { PartitionWorker } from '../../src/engine/partition-worker.ts'
import { singlePartition, straightAndCrashed } from './single-partition.ts'

const root = mkdtempSync(join(tmpdir(), 'tagstream-predicted-restore-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const T0 = Date.UTC(2026, 10, 1, 10)
const MIN = 60_000
const RULES = 'segments:\n  risky:\n    when: predicted.churn_7d > 0.7 and total_purchases > 50\n  busy:\n    when: event_count >= 3\n'
let n = 0

function event(user: string, name: string, ts: number, properties: TrackedEvent['properties'] = {}): AppendRecord {
  const e: TrackedEvent = { event: name, user_id: user, ts, event_id: `id${n++}`, tenant: 'acme', received_at: ts, properties }
  return { key: `acme:${user}`, value: Buffer.from(encodeEvent(e)), timestamp: ts }
}

/** Lateness 5 min: at the cut (3) u1's spin at +10 min is held, and the prediction read after it is past the watermark. */
const RECORDS: AppendRecord[] = [
  event('u1', 'purchase', T0, { amount: 60 }),
  event('u1', 'spin', T0 + 10 * MIN),
  event('u1', PREDICTION_EVENT, T0 + 20 * MIN, { churn_7d: 0.9, purchase_7d: 0.1, wealth_30d: null, model_version: 'm1' }),
  event('u2', 'spin', T0 + 30 * MIN),
  event('u1', 'spin', T0 + 40 * MIN),
  event('u2', 'spin', T0 + 60 * MIN),
]

async function changes(log: EventLog): Promise<string[]> {
  const { end } = await log.offsets(TOPICS.segmentChanges, 0)
  return (await readRange(log, TOPICS.segmentChanges, 0, 0, end)).map((r) => {
    const c = JSON.parse(Buffer.from(r.value).toString()) as { user_id: string; segment: string; change: string; at: number }
    return `${c.user_id} ${c.change} ${c.segment} at +${(c.at - T0) / MIN}m`
  })
}

function u1(w: PartitionWorker) {
  const u = w.engine.getUser('acme', 'u1')!
  return { first: u.firstSeen, last: u.lastSeen, count: u.eventCount, predicted: u.predicted }
}

describe('a prediction and a restore', () => {
  it('is neither held again nor applied again after a restore from a checkpoint taken while events were held', async () => {
    const setup = (name: string) => singlePartition(join(root, name), RULES, { allowedLatenessMs: 5 * MIN })
    const { straight, crashed } = await straightAndCrashed(setup, RECORDS, 3, true, (w) => {
      // The restore re-read the held position on: only the spin is held again.
      expect(w.engine.held.size).toBe(1)
      expect(u1(w).predicted).toMatchObject({ churn_7d: 0.9, scored_at: T0 + 20 * MIN })
    })
    try {
      expect(await changes(straight.log)).toEqual(['u1 entered risky at +5m', 'u1 entered busy at +40m'])
      expect(await changes(crashed.log)).toEqual(await changes(straight.log))
      expect(u1(crashed.w)).toEqual(u1(straight.w))
      expect(u1(straight.w)).toMatchObject({ count: 3, last: T0 + 40 * MIN })
      expect(crashed.w.engine.stats).toEqual(straight.w.engine.stats)
      expect(straight.w.engine.stats).toMatchObject({ predictions: 1, predictionsDropped: 0 })
    } finally {
      for (const s of [straight, crashed]) {
        await s.log.close()
        s.store.close()
      }
    }
  })
})
