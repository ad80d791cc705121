/**
 * Erasing a person in the engine (docs/privacy.md): an erase record in the events log takes the
 * person's ids out of the partition at that point of its stream, with exits marked `erased`, their
 * checkpoint rows deleted and their held events dropped; events after the record start a new
 * profile. A restore from a checkpoint before the record, after outputs past it were written,
 * gives exactly the outputs and state of the uninterrupted run.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { encodeEraseRecord } from '../../src/events/erase-record.ts'
import type { PartitionWorker } from '../../src/engine/partition-worker.ts'
import { decodeUser } from '../../src/engine/user-snapshot.ts'
import { encodeEvent, type TrackedEvent } from '../../src/events/index.ts'
import { TOPICS, type AppendRecord, type EventLog } from '../../src/log/event-log.ts'
import { readRange } from '../../src/log/read-range.ts'
import { singlePartition, straightAndCrashed } from './single-partition.ts'
import { drain, engineDeadLetters } from './poison-support.ts'

const root = mkdtempSync(join(tmpdir(), 'tagstream-erase-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const T0 = Date.UTC(2026, 10, 1, 10)
const MIN = 60_000
const RULES = 'segments:\n  spinner:\n    when: count(spin, 1h) >= 2\n  buyer:\n    when: sum(purchase.amount, 1h) >= 5\n'
let n = 0

function event(user: string, name: string, ts: number, properties: TrackedEvent['properties'] = {}, tenant = 'acme'): AppendRecord {
  const e: TrackedEvent = { event: name, user_id: user, ts, event_id: `id${n++}`, tenant, received_at: ts, properties }
  return { key: `${tenant}:${user}`, value: Buffer.from(encodeEvent(e)), timestamp: ts }
}

const erase = (ids: string[], job: string, ts: number, tenant = 'acme'): AppendRecord => ({ key: `${tenant}:${ids[0]!}`, value: encodeEraseRecord({ tenant, ids, job }), timestamp: ts })

/**
 * u1 spins and buys (in both segments), u2 spins, beta's u1 (another tenant, same id) spins; u1 is
 * erased (a late event of u1 is still held when the record comes: lateness 5 min); a copy of the
 * job's record changes nothing; then u1 comes back as a new profile; a forged record is poison.
 */
function stream(): AppendRecord[] {
  return [
    event('u1', 'spin', T0),
    event('u1', 'spin', T0 + MIN),
    event('u1', 'purchase', T0 + MIN, { amount: 7 }),
    event('u2', 'spin', T0 + MIN),
    event('u2', 'spin', T0 + 2 * MIN),
    event('u1', 'spin', T0, {}, 'beta'),
    event('u1', 'spin', T0 + MIN, {}, 'beta'),
    // Ahead of the watermark (T0 + 10 min − 5 min lateness... the next one moves it): held at the record.
    event('u3', 'spin', T0 + 10 * MIN),
    event('u1', 'spin', T0 + 9 * MIN),
    erase(['u1'], 'era_1', T0 + 11 * MIN),
    event('u2', 'purchase', T0 + 12 * MIN, { amount: 9 }),
    erase(['u1'], 'era_1', T0 + 12 * MIN),
    event('u1', 'login', T0 + 13 * MIN),
    event('u1', 'spin', T0 + 14 * MIN),
    { key: null, value: Buffer.from([5, 0xc1]), timestamp: T0 + 15 * MIN },
    event('u3', 'spin', T0 + 20 * MIN),
  ]
}

async function changes(log: EventLog): Promise<string[]> {
  const { end } = await log.offsets(TOPICS.segmentChanges, 0)
  return (await readRange(log, TOPICS.segmentChanges, 0, 0, end)).map((r) => {
    const c = JSON.parse(Buffer.from(r.value).toString()) as { tenant: string; user_id: string; segment: string; change: string; at: number; reason?: string }
    return `${c.tenant}:${c.user_id} ${c.change} ${c.segment} at +${(c.at - T0) / MIN}m${c.reason === undefined ? '' : ` (${c.reason})`}`
  })
}

const setup = (name: string) => singlePartition(join(root, name), RULES, { allowedLatenessMs: 5 * MIN })

const stateOf = (w: PartitionWorker) =>
  [...w.engine.allUsers()].map((u) => [u.key, u.eventCount, Array.from(u.metrics, (m) => m?.value() ?? null), u.version]).sort((a, b) => String(a[0]).localeCompare(String(b[0])))

describe('erasing a person in the engine', () => {
  it('takes the person out at the record with exits marked erased, deletes the row, drops held events; later events make a new profile', async () => {
    const { log, store, worker } = await setup('one-run')
    await log.append(TOPICS.events, 0, stream())
    const w = await worker()
    await drain(w, log)
    await w.checkpoint()
    expect(await changes(log)).toEqual([
      'acme:u1 entered spinner at +1m',
      'acme:u1 entered buyer at +1m',
      'beta:u1 entered spinner at +1m',
      'acme:u2 entered spinner at +2m',
      // At the record, at the partition's clock (the latest event less 5 min of lateness).
      'acme:u1 exited spinner at +5m (erased)',
      'acme:u1 exited buyer at +5m (erased)',
      // u2's purchase was held until the last event moved the clock past it. u1's new profile has
      // one spin only (its held spin at +9m went with the erase): no entry.
      'acme:u2 entered buyer at +12m',
    ])
    const u1 = w.engine.getUser('acme', 'u1')!
    // Only the events after the record: the login and one spin.
    expect(u1.eventCount).toBe(2)
    expect(u1.metrics[0]!.value()).toBe(1)
    expect(w.engine.getUser('beta', 'u1')!.eventCount).toBe(2)
    expect(w.engine.getUser('acme', 'u2')!.eventCount).toBe(3)
    expect(w.engine.sizes.get('acme')).toEqual(
      new Map([
        ['spinner', 1],
        ['buyer', 1],
      ]),
    )
    // The stored row is the new profile's.
    const stored = decodeUser((await store.getUser('engine', 0, 'acme:u1'))!, w.engine.rulesOf('acme'))
    expect(stored.eventCount).toBe(2)
    // The job's second record changed nothing; the forged one is poison.
    const ckpt = await store.loadCheckpoint('engine', 0)
    const erasures = (ckpt!.engine as { erasures?: Array<{ job: string; offset: number; outputs: Record<string, number> }> }).erasures!
    expect(erasures.map((e) => [e.job, e.offset])).toEqual([['era_1', 9]])
    // The erase's exits are below the recorded output end of segment-changes.
    expect(erasures[0]!.outputs[TOPICS.segmentChanges]).toBe(6)
    expect((await engineDeadLetters(log)).map((l) => [l.offset, l.field])).toEqual([[14, 'tenant']])
    await log.close()
    await store.close()
  })

  it('erases an id with no state here (another partition holds it) without a trace', async () => {
    const { log, store, worker } = await setup('absent')
    await log.append(TOPICS.events, 0, [event('u2', 'spin', T0), erase(['nobody'], 'era_2', T0 + MIN), event('u2', 'spin', T0 + 2 * MIN), event('u3', 'login', T0 + 10 * MIN)])
    const w = await worker()
    await drain(w, log)
    await w.checkpoint()
    expect(await changes(log)).toEqual(['acme:u2 entered spinner at +2m'])
    expect(await store.getUser('engine', 0, 'acme:nobody')).toBeNull()
    await log.close()
    await store.close()
  })

  it.each([4, 9, 10, 12])('restored from a checkpoint after %i records with outputs past it written, gives the uninterrupted run', async (cut) => {
    const { straight, crashed } = await straightAndCrashed(setup, stream(), cut, true)
    const [a, b2] = [straight.w, crashed.w]
    expect(await changes(crashed.log)).toEqual(await changes(straight.log))
    expect(stateOf(b2)).toEqual(stateOf(a))
    expect(b2.engine.sizes).toEqual(a.engine.sizes)
    expect(await crashed.store.getUser('engine', 0, 'acme:u1')).toEqual(await straight.store.getUser('engine', 0, 'acme:u1'))
    for (const s of [straight, crashed]) {
      await s.log.close()
      await s.store.close()
    }
  })
})
