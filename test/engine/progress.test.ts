/**
 * Seed 000's progress line (src/engine/progress.ts, docs/operations.md "Progress lines"): events
 * processed by this run (not those a checkpoint restored), events per second, segment entries and
 * exits in the interval, users an event was applied to in the interval, users in a segment now;
 * a partition handed over still counts what it processed here.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Progress } from '../../src/engine/progress.ts'
import { encodeEvent, type TrackedEvent } from '../../src/events/index.ts'
import { TOPICS, type AppendRecord } from '../../src/log/event-log.ts'
import { singlePartition } from './single-partition.ts'
import { drain } from './poison-support.ts'

const root = mkdtempSync(join(tmpdir(), 'tagstream-progress-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const T0 = Date.UTC(2026, 10, 1, 10)
let n = 0
function spin(user: string, ts: number): AppendRecord {
  const e: TrackedEvent = { event: 'spin', user_id: user, ts, event_id: `p${n++}`, tenant: 'default', received_at: ts, properties: {} }
  return { key: `default:${user}`, value: Buffer.from(encodeEvent(e)), timestamp: ts }
}

describe('the progress line', () => {
  it('counts this run, the interval, and who is tagged now', async () => {
    const { log, store, worker } = await singlePartition(join(root, 'one'), 'segments:\n  spinner:\n    when: count(spin, 1h) >= 2\n')
    await log.append(TOPICS.events, 0, [spin('a', T0), spin('a', T0 + 1), spin('b', T0 + 2), spin('b', T0 + 3), spin('c', T0 + 4)])
    const first = await worker()
    await drain(first, log)
    await first.checkpoint()

    // A restart: the checkpoint's 5 events are not this run's.
    const w = await worker()
    // Times given, not read: the rates are exact.
    const t = performance.now()
    const progress = new Progress(t)
    await log.append(TOPICS.events, 0, [spin('c', T0 + 5), spin('d', T0 + 6)])
    await drain(w, log)
    expect(progress.sample([w], t + 2_000)).toMatchObject({ processedEvents: 2, eventsPerSecond: 1, toggledUsers: 1, activeUsers: 2, taggedUsers: 3, users: 4 })
    // The next interval: one event of a tagged user, nothing toggles.
    await log.append(TOPICS.events, 0, [spin('a', T0 + 7)])
    await drain(w, log)
    expect(progress.sample([w], t + 3_000)).toMatchObject({ processedEvents: 3, intervalEventsPerSecond: 1, toggledUsers: 0, activeUsers: 1, taggedUsers: 3 })
    // Handed over: what it processed still counts; no partition left, nobody active or tagged here.
    progress.retire(w)
    expect(progress.sample([], t + 4_000)).toMatchObject({ processedEvents: 3, toggledUsers: 0, activeUsers: 0, taggedUsers: 0, users: 0 })
    await log.close()
    await store.close()
  })
})
