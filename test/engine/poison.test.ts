/**
 * Poison records in the engine's input (docs/engine.md, "Poison records"): a record the engine
 * cannot decode or apply is dead-lettered with its position and the partition goes on; a flat JSON
 * event from a third-party producer is validated as the collector would and applied.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { EngineOptions } from '../../src/engine/engine-options.ts'
import { RECORD_RAW_BYTES } from '../../src/ingest/record-letter.ts'
import { encodeClockRecord, encodeEvent, type TrackedEvent } from '../../src/events/index.ts'
import { TOPICS, type AppendRecord } from '../../src/log/event-log.ts'
import { singlePartition } from './single-partition.ts'
import { drain, engineDeadLetters } from './poison-support.ts'

const root = mkdtempSync(join(tmpdir(), 'tagstream-poison-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const T0 = Date.UTC(2026, 10, 1, 10)
const RULES = 'segments:\n  buyer:\n    when: sum(purchase.amount, 1h) >= 5\n'
let n = 0

function event(user: string, name: string, ts: number, properties: TrackedEvent['properties'] = {}): TrackedEvent {
  return { event: name, user_id: user, ts, event_id: `id${n++}`, tenant: 'default', received_at: ts, properties }
}

const binary = (e: TrackedEvent): AppendRecord => ({ key: `${e.tenant}:${e.user_id}`, value: Buffer.from(encodeEvent(e)), timestamp: e.ts })
const raw = (value: Buffer | string, timestamp: number): AppendRecord => ({ key: null, value: Buffer.from(value), timestamp })

function setup(name: string, options: Partial<EngineOptions> = {}): ReturnType<typeof singlePartition> {
  return singlePartition(join(root, name), RULES, options)
}

describe('poison records in the engine', () => {
  it('applies a flat JSON event, dead-letters what it cannot read, and keeps going across a restart', async () => {
    const { log, store, worker } = await setup('mixed')
    const records: AppendRecord[] = [
      binary(event('u1', 'purchase', T0, { amount: 1 })),
      // The report: a third-party producer's flat JSON event without `properties`.
      raw(JSON.stringify({ event: 'purchase', user_id: '1', amount: 5 }), T0 + 1),
      raw('[1,2,3]', T0 + 2),
      raw(Buffer.from([0x07, 0x01, 0x02]), T0 + 3),
      raw(Buffer.from(encodeEvent(event('u1', 'purchase', T0, { amount: 1 }))).subarray(0, 20), T0 + 4),
      raw(Buffer.from([0x02, 0x01]), T0 + 5),
      raw(JSON.stringify({ event: 'purchase', user_id: 'u2', amount: 3, tenant: 'acme', ts: new Date(T0 + 6).toISOString() }), T0 + 6),
      raw(JSON.stringify({ event: 'purchase', user_id: 'u3', tenant: 7 }), T0 + 7),
      raw(JSON.stringify({ event: 'purchase', user_id: 'u4', amount: 'x'.repeat(20_000) }), T0 + 8),
      raw(encodeClockRecord(T0 + 8), T0 + 9),
      raw('', T0 + 10),
      binary(event('u1', 'purchase', T0 + 11, { amount: 4 })),
    ]
    await log.append(TOPICS.events, 0, records)
    const w = await worker()
    await drain(w, log)
    await w.checkpoint()

    expect(w.nextOffset).toBe(records.length)
    expect(w.engine.getUser('default', '1')?.totalPurchases).toBe(5)
    expect(w.engine.getUser('acme', 'u2')?.totalPurchases).toBe(3)
    expect(w.engine.getUser('default', 'u1')?.totalPurchases).toBe(5)
    expect(w.engine.stats.poison).toBe(7)
    const letters = await engineDeadLetters(log)
    expect(letters.map((d) => [d.offset, d.field])).toEqual([
      [2, '(event)'],
      [3, '(record)'],
      [4, '(record)'],
      [5, '(record)'],
      [7, 'tenant'],
      [8, 'amount'],
      [10, '(record)'],
    ])
    for (const d of letters) expect(d).toMatchObject({ source: 'engine', topic: TOPICS.events, partition: 0, index: -1, tenant: 'default' })
    expect(letters[0]!.reason).toBe('must be a JSON object')
    expect(letters[1]!.reason).toBe('unknown encoding (first byte 0x07): neither an event envelope nor JSON')
    expect(letters[2]!.reason).toMatch(/binary event cannot be decoded|overruns/)
    expect(letters[3]!.reason).toMatch(/a clock record is 9 bytes, this one 2/)
    expect(letters[5]!.reason).toMatch(/string longer than/)
    // The raw bytes are kept up to the bound, with the full size.
    expect(letters[5]).toMatchObject({ raw_truncated: true, raw_bytes: records[8]!.value.byteLength })
    expect(Buffer.from(letters[5]!.raw_base64, 'base64').byteLength).toBe(RECORD_RAW_BYTES)
    expect(Buffer.from(letters[0]!.raw_base64, 'base64').toString()).toBe('[1,2,3]')
    expect(letters[0]!.received_at).toBe(T0 + 2)

    // A restart from the checkpoint reads on, with no error and nothing written twice.
    await log.append(TOPICS.events, 0, [raw('{"event":', T0 + 12), binary(event('u1', 'spin', T0 + 13))])
    const again = await worker()
    expect(again.engine.stats.poison).toBe(7)
    await drain(again, log)
    expect(again.nextOffset).toBe(records.length + 2)
    expect(again.engine.getUser('default', 'u1')?.eventCount).toBe(3)
    expect((await engineDeadLetters(log)).map((d) => d.offset)).toEqual([2, 3, 4, 5, 7, 8, 10, 12])
    await store.close()
    await log.close()
  })

  it('dead-letters every binary event of a forged tenant, before and after valid ones of other tenants', async () => {
    // The decoder checks a tenant once for a run of its events: a forged one must never ride on that.
    const { log, store, worker } = await setup('forged-tenant')
    const as = (tenant: string, user: string, ts: number): AppendRecord => binary({ ...event(user, 'purchase', ts, { amount: 1 }), tenant })
    await log.append(TOPICS.events, 0, [as('default', 'u1', T0), as('a:b', 'u1', T0 + 1), as('a:b', 'u1', T0 + 2), as('acme', 'u1', T0 + 3), as('a:b', 'u1', T0 + 4), as('default', 'u1', T0 + 5)])
    const w = await worker()
    await drain(w, log)
    expect((await engineDeadLetters(log)).map((d) => [d.offset, d.field])).toEqual([
      [1, 'tenant'],
      [2, 'tenant'],
      [4, 'tenant'],
    ])
    expect(w.engine.getUser('default', 'u1')?.totalPurchases).toBe(2)
    expect(w.engine.getUser('acme', 'u1')?.totalPurchases).toBe(1)
    expect(w.engine.getUser('a:b', 'u1')).toBeUndefined()
    await store.close()
    await log.close()
  })

  it('contains an exception while applying an event, also for a held event released later', async () => {
    const { log, store, worker } = await setup('apply', { allowedLatenessMs: 1_000 })
    await log.append(TOPICS.events, 0, [
      binary(event('bad', 'purchase', T0, { amount: 1 })),
      binary(event('good', 'purchase', T0 + 10, { amount: 2 })),
      binary(event('good', 'purchase', T0 + 5_000, { amount: 3 })),
      binary(event('bad', 'purchase', T0 + 10_000, { amount: 1 })),
      binary(event('good', 'purchase', T0 + 20_000, { amount: 4 })),
    ])
    const w = await worker()
    // A stand-in for an engine bug: applying any event of user "bad" throws.
    const engine = w.engine as unknown as { applyEvent: (e: TrackedEvent, T: number) => void }
    const applyEvent = engine.applyEvent.bind(w.engine)
    engine.applyEvent = (e, T) => {
      if (e.user_id === 'bad') throw new TypeError(`Cannot read properties of undefined (reading 'amount')`)
      applyEvent(e, T)
    }
    await drain(w, log)
    expect(w.nextOffset).toBe(5)
    // Held (lateness 1 s) and released by later events: the failure is reported at its own offset.
    const letters = await engineDeadLetters(log)
    expect(letters.map((d) => [d.offset, d.field, d.reason])).toEqual([
      [0, '(apply)', "engine error: Cannot read properties of undefined (reading 'amount')"],
      [3, '(apply)', "engine error: Cannot read properties of undefined (reading 'amount')"],
    ])
    expect(w.engine.stats.poison).toBe(2)
    expect(w.engine.getUser('default', 'good')?.totalPurchases).toBe(5)
    await store.close()
    await log.close()
  })
})
