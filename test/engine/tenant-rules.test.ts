/**
 * Per-tenant rules in the engine (docs/tenancy.md): a rules record in the events log switches one
 * tenant to its own rule set at that point of the partition's stream. Other tenants keep the base;
 * a checkpoint names the versions in effect, so a restore gives the same outputs as a run that was
 * never interrupted; a record that cannot apply is dead-lettered and the tenant keeps its rules.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { PartitionWorker } from '../../src/engine/partition-worker.ts'
import { encodeRulesRecord } from '../../src/engine/rules-record.ts'
import { encodeEvent, type TrackedEvent } from '../../src/events/index.ts'
import { TOPICS, type AppendRecord, type EventLog } from '../../src/log/event-log.ts'
import { readRange } from '../../src/log/read-range.ts'
import { singlePartition, straightAndCrashed } from './single-partition.ts'
import { drain, engineDeadLetters } from './poison-support.ts'

const root = mkdtempSync(join(tmpdir(), 'tagstream-tenant-rules-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const T0 = Date.UTC(2026, 10, 1, 10)
const BASE = 'segments:\n  buyer:\n    when: sum(purchase.amount, 1h) >= 5\n'
/** Acme's own rules: a lower bar for buyer (replacing the base's), and a segment of its own. */
const ACME_V1 = 'segments:\n  buyer:\n    when: sum(purchase.amount, 1h) >= 2\n  spinner:\n    when: count(spin, 1h) >= 2\n'
let n = 0

function event(tenant: string, user: string, name: string, ts: number, properties: TrackedEvent['properties'] = {}): AppendRecord {
  const e: TrackedEvent = { event: name, user_id: user, ts, event_id: `id${n++}`, tenant, received_at: ts, properties }
  return { key: `${tenant}:${user}`, value: Buffer.from(encodeEvent(e)), timestamp: ts }
}

const rulesRecord = (tenant: string, version: number, text: string, ts: number): AppendRecord => ({ key: `rules:${tenant}`, value: encodeRulesRecord({ tenant, version, text }), timestamp: ts })

/** Before the change, the change, copies and bad records of it, and events after. */
function stream(): AppendRecord[] {
  return [
    event('acme', 'a1', 'purchase', T0, { amount: 3 }),
    event('default', 'd1', 'purchase', T0, { amount: 3 }),
    // History for acme's new count(spin, 1h): filled from the log when the change is read.
    event('acme', 'a5', 'spin', T0),
    event('acme', 'a5', 'spin', T0),
    event('default', 'd5', 'spin', T0),
    event('default', 'd5', 'spin', T0),
    rulesRecord('acme', 1, ACME_V1, T0 + 1),
    event('acme', 'a2', 'purchase', T0 + 2, { amount: 3 }),
    event('default', 'd2', 'purchase', T0 + 2, { amount: 3 }),
    event('acme', 'a3', 'spin', T0 + 3),
    event('acme', 'a3', 'spin', T0 + 4),
    event('default', 'd3', 'spin', T0 + 3),
    event('default', 'd3', 'spin', T0 + 4),
    // A copy of version 1 (a second announcement): already in effect, nothing happens.
    rulesRecord('acme', 1, ACME_V1, T0 + 5),
    // Version 2 does not compile: dead-lettered, acme keeps version 1.
    rulesRecord('acme', 2, 'segments:\n  spinner:\n    when: count(spin, 1x) >= 2\n', T0 + 6),
    // Not a rules record at all.
    { key: null, value: Buffer.from([4, 1, 2]), timestamp: T0 + 7 },
    event('acme', 'a1', 'login', T0 + 8),
    event('acme', 'a4', 'purchase', T0 + 9, { amount: 6 }),
    event('default', 'd4', 'purchase', T0 + 9, { amount: 6 }),
  ]
}

async function setup(name: string): Promise<Awaited<ReturnType<typeof singlePartition>>> {
  const one = await singlePartition(join(root, name), BASE)
  // The store keeps every version a checkpoint may name (the API stores before it announces).
  await one.store.addRuleSet({ tenant: 'acme', version: 1, text: ACME_V1, by: 'test', at: T0 })
  return one
}

async function changes(log: EventLog): Promise<string[]> {
  const { end } = await log.offsets(TOPICS.segmentChanges, 0)
  return (await readRange(log, TOPICS.segmentChanges, 0, 0, end)).map((r) => {
    const c = JSON.parse(Buffer.from(r.value).toString()) as { tenant: string; user_id: string; segment: string; change: string; at: number }
    return `${c.tenant}:${c.user_id} ${c.change} ${c.segment} at +${c.at - T0}`
  })
}

describe('per-tenant rules in the engine', () => {
  it("switches one tenant's rules at the record, leaves the others on the base, and dead-letters a change that cannot apply", async () => {
    const { log, store, worker } = await setup('one-run')
    const records = stream()
    await log.append(TOPICS.events, 0, records)
    const w = await worker()
    await drain(w, log)
    await w.checkpoint()
    expect(await changes(log)).toEqual([
      // At the change, at the partition's clock: a1 bought 3 before it (buyer's bar is now 2), and
      // a5's two spins before it are count(spin, 1h)'s history (the aggregate is new to acme).
      'acme:a1 entered buyer at +0',
      'acme:a5 entered spinner at +0',
      'acme:a2 entered buyer at +2',
      'acme:a3 entered spinner at +4',
      'acme:a4 entered buyer at +9',
      'default:d4 entered buyer at +9',
    ])
    expect(w.backfills.progressOf('acme')).toMatchObject({ tenant: 'acme', version: 1, rows: { warehouse: 0, log: 2 }, users: 1, error: null })
    expect(w.engine.book.versions()).toEqual({ acme: 1 })
    expect(w.engine.rulesOf('default').compiled.segments.map((s) => s.name)).toEqual(['buyer'])
    expect(w.engine.rulesOf('acme').compiled.segments.map((s) => [s.name, s.text])).toEqual([
      ['buyer', 'sum(purchase.amount, 1h) >= 2'],
      ['spinner', 'count(spin, 1h) >= 2'],
    ])
    expect(w.engine.sizes.get('acme')).toEqual(
      new Map([
        ['buyer', 3],
        ['spinner', 2],
      ]),
    )
    const letters = await engineDeadLetters(log)
    expect(letters.map((l) => [l.offset, l.tenant, l.field])).toEqual([
      [14, 'acme', 'rules'],
      [15, 'default', '(record)'],
    ])
    expect(letters[0]!.reason).toContain('rule set version 2 not applied')
    expect(letters[0]!.reason).toContain('duration')
    const ckpt = await store.loadCheckpoint('engine', 0)
    expect((ckpt!.engine as { rules?: unknown }).rules).toEqual({ acme: 1 })
    await log.close()
    await store.close()
  })

  it.each([3, 6, 7, 11, 14, 17])('restored from a checkpoint after %i records, gives the outputs of the uninterrupted run', async (cut) => {
    // A fresh worker: the tenant's rules come back from the checkpoint's versions and the store.
    const { straight, crashed } = await straightAndCrashed(setup, stream(), cut, false, (w) => expect(w.engine.book.versions()).toEqual(cut > 6 ? { acme: 1 } : {}))
    const [a, b2] = [straight.w, crashed.w]

    expect(await changes(crashed.log)).toEqual(await changes(straight.log))
    expect(b2.engine.sizes).toEqual(a.engine.sizes)
    // Every aggregate's value too: a history added twice would keep memberships but not counts.
    const values = (w: PartitionWorker) => [...w.engine.allUsers()].map((u) => [u.key, Array.from(u.metrics, (m) => m?.value() ?? null)]).sort()
    expect(values(b2)).toEqual(values(a))
    expect(values(a)).toContainEqual(['acme:a5', [null, 2]])
    for (const s of [straight, crashed]) {
      await s.log.close()
      await s.store.close()
    }
  })
})
