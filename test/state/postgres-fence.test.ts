import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { PostgresStateStore } from '../../src/state/postgres/state-store.ts'
import { inTransaction } from '../../src/state/postgres/transaction.ts'
import { FencedError, type PartitionCheckpoint } from '../../src/state/state-store.ts'
import { sql, testSchema, TEST_POSTGRES } from './postgres-helpers.ts'

const bytes = (s: string) => new TextEncoder().encode(s)
const ckpt = (nextOffset: number): PartitionCheckpoint => ({ nextOffset, engine: { maxTs: 1, watermark: 1, stats: {} }, outputs: { 'segment-changes': nextOffset } })

describe('Postgres fenced checkpoints', () => {
  const s = testSchema('fence')
  let store: PostgresStateStore
  const lease = (partition: number, owner: string | null, epoch: number) =>
    sql(
      `INSERT INTO ${s.schema}.partition_leases (namespace, partition, owner, epoch) VALUES ('engine', $1, $2, $3)
         ON CONFLICT (namespace, partition) DO UPDATE SET owner = excluded.owner, epoch = excluded.epoch`,
      [partition, owner, epoch],
    )
  const stateOf = async (partition: number) => new TextDecoder().decode((await store.getUser('engine', partition, 'a')) ?? new Uint8Array())

  beforeAll(async () => {
    store = await PostgresStateStore.open(s.url, { statement: { maxUsers: 2 } })
  })
  afterEach(async () => {
    await s.truncate()
    await sql(`TRUNCATE ${s.schema}.partition_leases`)
    await sql(`TRUNCATE ${s.schema}.checkpoint_writers`)
  })
  afterAll(async () => {
    await store?.close()
    await s.drop()
  })

  it('writes when the lease row names the fence, in one statement or in several', async () => {
    await lease(0, 'w1', 3)
    await store.saveCheckpoint('engine', 0, ckpt(5), [{ key: 'a', state: bytes('one') }], { owner: 'w1', epoch: 3 })
    const many = Array.from({ length: 5 }, (_, i) => ({ key: i === 4 ? 'a' : `u${i}`, state: bytes(`s${i}`) }))
    await store.saveCheckpoint('engine', 0, ckpt(9), many, { owner: 'w1', epoch: 3 })
    expect(await store.loadCheckpoint('engine', 0)).toEqual(ckpt(9))
    expect(await stateOf(0)).toBe('s4')
  })

  it('refuses another owner, an older epoch and a released lease, writing nothing (also across slices)', async () => {
    await lease(1, 'w1', 3)
    await store.saveCheckpoint('engine', 1, ckpt(5), [{ key: 'a', state: bytes('kept') }], { owner: 'w1', epoch: 3 })
    const users = Array.from({ length: 5 }, (_, i) => ({ key: i === 0 ? 'a' : `u${i}`, state: bytes('stale') }))
    await lease(1, 'w2', 4)
    for (const fence of [
      { owner: 'w1', epoch: 3 },
      { owner: 'w1', epoch: 4 },
      { owner: 'w2', epoch: 3 },
    ]) {
      await expect(store.saveCheckpoint('engine', 1, ckpt(7), users, fence)).rejects.toThrow(FencedError)
    }
    await lease(1, null, 4)
    await expect(store.saveCheckpoint('engine', 1, ckpt(7), users, { owner: 'w2', epoch: 4 })).rejects.toThrow(FencedError)
    expect(await store.loadCheckpoint('engine', 1)).toEqual(ckpt(5))
    expect(await stateOf(1)).toBe('kept')
    expect(await store.getUser('engine', 1, 'u1')).toBeNull()
  })

  it('waits for a takeover in progress and then refuses, since the epoch it finds is the new one', async () => {
    await lease(2, 'w1', 1)
    const taker = new pg.Client({ connectionString: TEST_POSTGRES })
    await taker.connect()
    try {
      await taker.query('BEGIN')
      await taker.query(`UPDATE ${s.schema}.partition_leases SET owner = 'w2', epoch = epoch + 1 WHERE namespace = 'engine' AND partition = 2`)
      let settled = false
      const save = store.saveCheckpoint('engine', 2, ckpt(3), [{ key: 'a', state: bytes('late') }], { owner: 'w1', epoch: 1 }).finally(() => (settled = true))
      save.catch(() => {})
      await new Promise((r) => setTimeout(r, 300))
      expect(settled).toBe(false)
      await taker.query('COMMIT')
      await expect(save).rejects.toThrow(FencedError)
      expect(await store.loadCheckpoint('engine', 2)).toBeNull()
    } finally {
      await taker.end()
    }
  })

  it('survives the server ending a transaction left idle (a paused process), failing only that transaction', async () => {
    const pool = new pg.Pool({ connectionString: TEST_POSTGRES, max: 1, idle_in_transaction_session_timeout: 200 })
    try {
      const paused = inTransaction(pool, async (client) => {
        await client.query('SELECT 1')
        // As if the process were stopped here: the server gives up on the open transaction.
        await new Promise((r) => setTimeout(r, 600))
        await client.query('SELECT 2')
      })
      await expect(paused).rejects.toThrow()
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1)
    } finally {
      await pool.end()
    }
  })

  it('makes a takeover wait for a fenced checkpoint that is committing', async () => {
    await lease(3, 'w1', 1)
    // A checkpoint transaction holding the lease row, as saveCheckpoint does between its fence check and COMMIT.
    const owner = new pg.Client({ connectionString: TEST_POSTGRES })
    await owner.connect()
    try {
      await owner.query('BEGIN')
      expect((await owner.query(`SELECT 1 FROM ${s.schema}.partition_leases WHERE namespace = 'engine' AND partition = 3 AND owner = 'w1' AND epoch = 1 FOR SHARE`)).rowCount).toBe(1)
      let settled = false
      const takeover = sql(`UPDATE ${s.schema}.partition_leases SET owner = 'w2', epoch = epoch + 1 WHERE namespace = 'engine' AND partition = 3`).finally(() => (settled = true))
      await new Promise((r) => setTimeout(r, 300))
      expect(settled).toBe(false)
      await owner.query('COMMIT')
      await takeover
      expect(await sql(`SELECT owner, epoch FROM ${s.schema}.partition_leases WHERE partition = 3`)).toEqual([{ owner: 'w2', epoch: 2 }])
    } finally {
      await owner.end()
    }
  })

  it('with a writer token: writes under the latest token or a later one, refuses an earlier one, writing nothing', async () => {
    const token = (producerId: number, epoch: number) => ({ token: { producerId, epoch } })
    await store.saveCheckpoint('engine', 2, ckpt(5), [{ key: 'a', state: bytes('first') }], token(1000, 0))
    await store.saveCheckpoint('engine', 2, ckpt(6), [{ key: 'a', state: bytes('same') }], token(1000, 0))
    // A later epoch of the same producer id, then a later producer id (Kafka's ids grow in blocks).
    await store.saveCheckpoint('engine', 2, ckpt(7), [{ key: 'a', state: bytes('later') }], token(1000, 3))
    await store.saveCheckpoint('engine', 2, ckpt(8), [{ key: 'a', state: bytes('newest') }], token(2000, 0))
    const stale = Array.from({ length: 5 }, (_, i) => ({ key: i === 0 ? 'a' : `u${i}`, state: bytes('stale') }))
    for (const fence of [token(1000, 3), token(1000, 9), token(1999, 50)]) {
      await expect(store.saveCheckpoint('engine', 2, ckpt(99), stale, fence)).rejects.toThrow(FencedError)
    }
    expect(await store.loadCheckpoint('engine', 2)).toEqual(ckpt(8))
    expect(await stateOf(2)).toBe('newest')
    expect(await store.getUser('engine', 2, 'u1')).toBeNull()
    // Partitions are fenced apart.
    await store.saveCheckpoint('engine', 3, ckpt(1), [], token(5, 0))
    expect(await store.loadCheckpoint('engine', 3)).toEqual(ckpt(1))
  })
})
