import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../src/logger.ts'
import { EmbeddedEventLog } from '../../src/log/embedded/event-log.ts'
import { PostgresStateStore } from '../../src/state/postgres/state-store.ts'
import { FencedError, type PartitionCheckpoint } from '../../src/state/state-store.ts'
import { FencedEventLog } from '../../src/worker/fenced-log.ts'
import { FencedStateStore } from '../../src/worker/fenced-store.ts'
import { LeaseLostError, PartitionSlot } from '../../src/worker/partition-slot.ts'
import { PostgresCoordinator } from '../../src/worker/postgres/coordinator.ts'
import { sql, testSchema } from '../state/postgres-helpers.ts'

const logger = createLogger('test', 'silent')
const ckpt = (nextOffset: number): PartitionCheckpoint => ({ nextOffset, engine: {}, outputs: {} })

describe("what one partition's worker sees through its lease", () => {
  const s = testSchema('fenced')
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-fenced-'))
  afterAll(async () => {
    await s.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('checkpoints under the lease it was acquired with, and not once another worker holds it', async () => {
    const store = await PostgresStateStore.open(s.url)
    const a = await PostgresCoordinator.open(s.url, { namespace: 'engine', workerId: 'a', leaseMs: 300, logger })
    const b = await PostgresCoordinator.open(s.url, { namespace: 'engine', workerId: 'b', leaseMs: 60_000, logger })
    try {
      await Promise.all([a.join(), b.join()])
      const epoch = (await a.acquire(0))!
      const asA = new FencedStateStore(store, { owner: 'a', epoch })
      await asA.saveCheckpoint('engine', 0, ckpt(10), [{ key: 'u', state: new Uint8Array([1]) }])
      // a stops beating; b takes the partition over.
      await new Promise((r) => setTimeout(r, 400))
      expect(await b.acquire(0)).toBe(epoch + 1)
      await expect(asA.saveCheckpoint('engine', 0, ckpt(20), [{ key: 'u', state: new Uint8Array([2]) }])).rejects.toThrow(FencedError)
      expect(await store.loadCheckpoint('engine', 0)).toEqual(ckpt(10))
      await new FencedStateStore(store, { owner: 'b', epoch: epoch + 1 }).saveCheckpoint('engine', 0, ckpt(30), [])
      expect(await store.loadCheckpoint('engine', 0)).toEqual(ckpt(30))
      expect(await sql(`SELECT owner, epoch FROM ${s.schema}.partition_leases`)).toEqual([{ owner: 'b', epoch: epoch + 1 }])
    } finally {
      await Promise.all([store.close(), a.close(), b.close()])
    }
  })

  it("appends outputs only while the worker's last heartbeat is recent enough, and never once the lease is lost", async () => {
    const log = await EmbeddedEventLog.open(join(dir, 'log'))
    try {
      await log.createTopic('segment-changes', { partitions: 1 })
      let validUntil = performance.now() + 60_000
      const slot = new PartitionSlot(0, 7, () => validUntil, logger)
      const fenced = new FencedEventLog(log, slot.guard)
      const record = [{ key: 'default:u', value: Buffer.from('change') }]
      await fenced.append('segment-changes', 0, record)
      validUntil = performance.now() - 1
      await expect(fenced.append('segment-changes', 0, record)).rejects.toThrow(LeaseLostError)
      validUntil = performance.now() + 60_000
      await fenced.append('segment-changes', 0, record)
      slot.lose()
      await expect(fenced.append('segment-changes', 0, record)).rejects.toThrow('lease of partition 0 (epoch 7) lost or about to expire: outputs not appended')
      expect((await log.offsets('segment-changes', 0)).end).toBe(2)
      // Reads go to the log's own columns (the poll loop's readBatch), not through read() and a record object each.
      await log.append('segment-changes', 0, [record[0]!, record[0]!])
      const batch = await fenced.readBatch('segment-changes', 0, 2)
      expect(Array.from(batch.offsets)).toEqual([2, 3])
      expect(batch.chunks.length).toBe(1)
    } finally {
      await log.close()
    }
  })
})
