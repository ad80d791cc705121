/**
 * The erasure job runner (src/api/privacy/eraser.ts, docs/privacy.md): a job its server left
 * `accepted` (it died while appending) is taken over, its records found or appended once per
 * partition; a failing warehouse step is retried with a pause and shows why in the job meanwhile.
 * The real engine and sink are the end-to-end tests' (erase.test.ts, erase-crash.test.ts); here the
 * engine's checkpoints are written by hand, as a partition writes them past an erase record.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { decodeEraseRecord, encodeEraseRecord } from '../../src/events/erase-record.ts'
import { DEFAULT_ERASER_OPTIONS, Eraser, hashId } from '../../src/api/privacy/eraser.ts'
import { newErasureJob } from '../../src/api/privacy/request-erase.ts'
import { ApiMetrics } from '../../src/api/metrics.ts'
import type { EmbeddedEventLog } from '../../src/log/embedded/event-log.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { readRange } from '../../src/log/read-range.ts'
import { EmbeddedStateStore } from '../../src/state/embedded/state-store.ts'
import type { ErasureJob } from '../../src/state/state-store.ts'
import type { WarehouseErase } from '../../src/warehouse/sink/erase-rows.ts'

const root = mkdtempSync(join(tmpdir(), 'tagstream-eraser-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const P = 3
const silent = pino({ level: 'silent' })

/** A job left `accepted` a minute ago, under a fixed id. */
function job(id: string, from: Record<string, number>): ErasureJob {
  return { ...newErasureJob('acme', ['u1'], 'key-x', from, Date.now() - 60_000), id }
}

describe('the erasure job runner', () => {
  it('takes over a job its server left half-appended, appends the missing records once, and finishes it through a failing warehouse step', async () => {
    const dir = join(root, 'takeover')
    const { log } = await openEventLog(join(dir, 'log'), { partitions: P, retentionCheckMs: 0 })
    const store = EmbeddedStateStore.open(join(dir, 'state'))
    for (let p = 0; p < P; p++) await log.append(TOPICS.events, p, [{ key: null, value: Buffer.from('{}'), timestamp: 1 }])
    const j = job('era_a', { '0': 1, '1': 1, '2': 1 })
    await store.privacy.addErasure(j)
    // The dead server appended partition 1's record only.
    await log.append(TOPICS.events, 1, [{ key: 'acme:u1', value: encodeEraseRecord({ tenant: 'acme', ids: ['u1'], job: 'era_a' }), timestamp: 2 }])

    const asked: WarehouseErase[] = []
    let failNext = true
    const warehouse = {
      async erase(e: WarehouseErase) {
        asked.push(e)
        if (failNext) {
          failNext = false
          throw new Error('ENOSPC: no space left on device')
        }
        return { filesRewritten: 1, filesRemoved: 0, rowsRemoved: 2 }
      },
    }
    const metrics = new ApiMetrics()
    const eraser = new Eraser(log, store, P, warehouse, silent, { ...DEFAULT_ERASER_OPTIONS, takeOverMs: 1_000 }, metrics)
    await eraser.tick()
    let now = (await store.privacy.getErasure('era_a'))!
    expect(now.status).toBe('erasing')
    expect(now.offsets).toEqual({ '0': 1, '1': 1, '2': 1 })
    await eraser.tick()
    for (let p = 0; p < P; p++) {
      const records = (await readRange(log, TOPICS.events, p, 0, 10)).filter((r) => r.value[0] === 5)
      expect(records.map((r) => decodeEraseRecord(Buffer.from(r.value), 0, r.value.length))).toEqual([{ tenant: 'acme', ids: ['u1'], job: 'era_a' }])
    }
    // Not done until every partition's engine has checkpointed past its record.
    expect((await store.privacy.getErasure('era_a'))!.engine).toBe(false)
    for (let p = 0; p < P; p++) {
      const erasures = [{ job: 'era_a', tenant: 'acme', ids: ['u1'], offset: 1, at: 2, outputs: { [TOPICS.segmentChanges]: 4 } }]
      await store.saveCheckpoint('engine', p, { nextOffset: 2, engine: { erasures }, outputs: {} }, [])
      await log.commit('warehouse', TOPICS.events, p, 2)
      await log.commit('warehouse-segment-changes', TOPICS.segmentChanges, p, 4)
    }
    await eraser.tick()
    now = (await store.privacy.getErasure('era_a'))!
    expect(now).toMatchObject({ engine: true, warehouse: false, status: 'erasing', error: 'ENOSPC: no space left on device' })
    expect((await metrics.erasureStepFailures.get()).values[0]?.value).toBe(1)
    // Retried only after the pause.
    await eraser.tick()
    expect(asked).toHaveLength(1)
    await new Promise((r) => setTimeout(r, 1_100))
    await eraser.tick()
    now = (await store.privacy.getErasure('era_a'))!
    expect(now).toMatchObject({ engine: true, warehouse: true, status: 'done', error: null })
    expect(asked[1]).toEqual({ tenant: 'acme', ids: ['u1'], events: { '0': 1, '1': 1, '2': 1 }, streams: { 'segment-changes': { '0': 4, '1': 4, '2': 4 } } })
    await log.close()
    await store.close()
  })

  it('waits for the sink to commit past the records before asking it to rewrite, and hashes the ids once retention dropped the erased events', async () => {
    const dir = join(root, 'lapse')
    const { log } = await openEventLog(join(dir, 'log'), { partitions: 1, retentionCheckMs: 0 })
    const store = EmbeddedStateStore.open(join(dir, 'state'))
    const j: ErasureJob = { ...job('era_b', { '0': 1 }), status: 'erasing', offsets: { '0': 1 } }
    await store.privacy.addErasure(j)
    await store.privacy.addAudit({ at: 1, tenant: 'acme', action: 'erase', subject: 'u1', by: 'key-x', job: 'era_b' })
    await log.append(TOPICS.events, 0, [{ key: null, value: Buffer.from('{}'), timestamp: 1 }])
    await log.append(TOPICS.events, 0, [{ key: 'acme:u1', value: encodeEraseRecord({ tenant: 'acme', ids: ['u1'], job: 'era_b' }), timestamp: 2 }])
    await store.saveCheckpoint('engine', 0, { nextOffset: 2, engine: { erasures: [{ job: 'era_b', tenant: 'acme', ids: ['u1'], offset: 1, at: 2, outputs: {} }] }, outputs: {} }, [])
    const asked: WarehouseErase[] = []
    const eraser = new Eraser(log, store, 1, { erase: async (e) => (asked.push(e), { filesRewritten: 0, filesRemoved: 0, rowsRemoved: 0 }) }, silent, {
      ...DEFAULT_ERASER_OPTIONS,
      tombstoneCheckMs: 0,
    })
    // The sink has not written the event below the record yet.
    await log.commit('warehouse', TOPICS.events, 0, 0)
    await eraser.tick()
    expect(asked).toHaveLength(0)
    await log.commit('warehouse', TOPICS.events, 0, 1)
    await eraser.tick()
    expect(asked).toHaveLength(1)
    expect((await store.privacy.getErasure('era_b'))!).toMatchObject({ status: 'done', tombstone: true, ids: ['u1'] })
    // The log still holds the record (and so, possibly, the events before it): the tombstone holds.
    await eraser.tick()
    expect((await store.privacy.getErasure('era_b'))!.tombstone).toBe(true)
    // Ten days on, retention has dropped the record and everything before it.
    await log.append(TOPICS.events, 0, [{ key: null, value: Buffer.from('{}'), timestamp: 3 }])
    await (log as EmbeddedEventLog).applyRetention(Date.now() + 10 * 86_400_000)
    expect((await log.offsets(TOPICS.events, 0)).start).toBeGreaterThan(0)
    await eraser.tick()
    const hashed = hashId('acme', 'u1')
    expect(hashed).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect((await store.privacy.getErasure('era_b'))!).toMatchObject({ status: 'done', tombstone: false, ids: [hashed] })
    expect((await store.privacy.auditEntries('acme', 10)).map((e) => e.subject)).toEqual([hashed])
    await log.close()
    await store.close()
  })
})
