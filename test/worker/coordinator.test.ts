import pg from 'pg'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { workerSettings } from '../../src/cli/worker.ts'
import { createLogger } from '../../src/logger.ts'
import { assignedPartitions } from '../../src/worker/assignment.ts'
import { PostgresCoordinator } from '../../src/worker/postgres/coordinator.ts'
import { sql, testSchema, TEST_POSTGRES } from '../state/postgres-helpers.ts'

const logger = createLogger('test', 'silent')

describe('assignment', () => {
  it('gives partition p to the (p mod n)-th live worker in id order', () => {
    expect(assignedPartitions('a', ['a'], 4)).toEqual([0, 1, 2, 3])
    expect(assignedPartitions('a', ['a', 'b', 'c'], 8)).toEqual([0, 3, 6])
    expect(assignedPartitions('c', ['a', 'b', 'c'], 8)).toEqual([2, 5])
    expect(assignedPartitions('d', ['a', 'b', 'c'], 8)).toEqual([])
    expect(assignedPartitions('e', ['a', 'b', 'c', 'd', 'e'], 3)).toEqual([])
    // Every partition goes to exactly one worker.
    const all = ['a', 'b', 'c'].flatMap((w) => assignedPartitions(w, ['a', 'b', 'c'], 16)).sort((x, y) => x - y)
    expect(all).toEqual(Array.from({ length: 16 }, (_, i) => i))
  })
})

describe('Postgres coordinator', () => {
  const s = testSchema('coord')
  const open: PostgresCoordinator[] = []
  const member = async (workerId: string, leaseMs = 60_000) => {
    const c = await PostgresCoordinator.open(s.url, { namespace: 'engine', workerId, leaseMs, logger })
    open.push(c)
    return c
  }
  const lease = async (partition: number) =>
    (await sql<{ owner: string | null; epoch: number }>(`SELECT owner, epoch FROM ${s.schema}.partition_leases WHERE namespace = 'engine' AND partition = $1`, [partition]))[0]
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()))
    await sql(`TRUNCATE ${s.schema}.partition_leases, ${s.schema}.workers`)
  })
  afterAll(() => s.drop())

  it('lists the live members in id order, itself included, and forgets expired ones', async () => {
    const b = await member('b')
    const a = await member('a')
    const gone = await member('gone', 200)
    await Promise.all([b.join(), a.join(), gone.join()])
    expect((await a.heartbeat()).workers).toEqual(['a', 'b', 'gone'])
    await new Promise((r) => setTimeout(r, 300))
    expect((await b.heartbeat()).workers).toEqual(['a', 'b'])
    expect((await b.heartbeat()).leases).toEqual([])
  })

  it('grants a free lease, refuses one a live worker holds, takes one over when its owner stops beating, with a higher epoch', async () => {
    // A 1 s lease with checks at ~0.2 s and ~1.1 s: wide margins, so a busy machine cannot flip either.
    const a = await member('a', 1_000)
    const b = await member('b', 1_000)
    await Promise.all([a.join(), b.join()])
    expect(await a.acquire(0)).toBe(1)
    expect(await b.acquire(0)).toBeNull()
    expect(await a.acquire(0)).toBe(2)
    // b keeps beating, a does not: a's heartbeat row expires and with it its lease.
    await new Promise((r) => setTimeout(r, 200))
    await b.heartbeat()
    expect(await b.acquire(0)).toBeNull()
    await new Promise((r) => setTimeout(r, 900))
    await b.heartbeat()
    expect(await b.acquire(0)).toBe(3)
    expect(await lease(0)).toEqual({ owner: 'b', epoch: 3 })
    // a's next heartbeat no longer lists the lease it lost; b's does.
    expect((await a.heartbeat()).leases).toEqual([])
    expect((await b.heartbeat()).leases).toEqual([{ partition: 0, epoch: 3 }])
    expect(await a.acquire(0)).toBeNull()
  })

  it("keeps a live worker's leases for as long as it beats, past the lease length", async () => {
    const a = await member('a', 400)
    const b = await member('b', 400)
    await Promise.all([a.join(), b.join()])
    expect(await a.acquire(1)).toBe(1)
    expect(await a.acquire(2)).toBe(1)
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 150))
      expect((await a.heartbeat()).leases).toEqual([
        { partition: 1, epoch: 1 },
        { partition: 2, epoch: 1 },
      ])
    }
    expect(await b.acquire(1)).toBeNull()
  })

  it('gives up on a lease row locked by an open transaction after the lock timeout, and a heartbeat never waits on it', async () => {
    const a = await member('a')
    await a.join()
    expect(await a.acquire(4)).toBe(1)
    const b = await PostgresCoordinator.open(s.url, { namespace: 'engine', workerId: 'b', leaseMs: 60_000, lockTimeoutMs: 300, logger })
    open.push(b)
    await b.join()
    // A paused owner in the middle of a fenced checkpoint: the lease row held FOR SHARE, transaction open.
    const frozen = new pg.Client({ connectionString: TEST_POSTGRES })
    await frozen.connect()
    try {
      await frozen.query('BEGIN')
      await frozen.query(`SELECT 1 FROM ${s.schema}.partition_leases WHERE namespace = 'engine' AND partition = 4 FOR SHARE`)
      await sql(`UPDATE ${s.schema}.workers SET expires = now() - interval '1 second' WHERE id = 'a'`)
      const t0 = Date.now()
      await expect(b.acquire(4)).rejects.toThrow(/lock timeout/)
      expect(Date.now() - t0).toBeLessThan(5_000)
      const t1 = Date.now()
      expect((await a.heartbeat()).leases).toEqual([{ partition: 4, epoch: 1 }])
      expect(Date.now() - t1).toBeLessThan(250)
      await frozen.query('ROLLBACK')
      await sql(`UPDATE ${s.schema}.workers SET expires = now() - interval '1 second' WHERE id = 'a'`)
      expect(await b.acquire(4)).toBe(2)
    } finally {
      await frozen.end()
    }
  })

  it('hands a released lease over at once, but not one released under an old epoch', async () => {
    const a = await member('a')
    const b = await member('b')
    await Promise.all([a.join(), b.join()])
    expect(await a.acquire(3)).toBe(1)
    expect(await a.acquire(3)).toBe(2)
    await a.release(3, 1)
    expect(await lease(3)).toEqual({ owner: 'a', epoch: 2 })
    await a.release(3, 2)
    expect(await b.acquire(3)).toBe(3)
  })

  it('releases everything and leaves the group on leave()', async () => {
    const a = await member('a')
    const b = await member('b')
    await a.join()
    await b.join()
    await a.acquire(0)
    await a.acquire(1)
    await a.leave()
    expect((await b.heartbeat()).workers).toEqual(['b'])
    expect(await b.acquire(0)).toBe(2)
    expect(await b.acquire(1)).toBe(2)
  })

  it("makes a second process with a live id wait until the first one's heartbeat expires", async () => {
    const first = await member('same', 800)
    await first.join()
    const second = await member('same', 800)
    const t0 = Date.now()
    await second.join()
    const waited = Date.now() - t0
    expect(waited).toBeGreaterThanOrEqual(500)
    expect(waited).toBeLessThan(5_000)
  })
})

describe('worker settings', () => {
  const g = { data: '/srv/tagstream', partitions: 8 }
  const pgUrl = 'postgres://u:secret@db:5432/app?schema=prod'

  it('takes flags first, then TAGSTREAM_* variables, then the defaults', () => {
    const s = workerSettings(g, { state: pgUrl }, {})
    expect(s).toMatchObject({
      logUrl: '/srv/tagstream/log',
      stateUrl: pgUrl,
      segmentsPath: '/srv/tagstream/segments.yaml',
      segmentsNamed: false,
      timing: { heartbeatMs: 250, sessionMs: 1_500, leaseMs: 5_000, appendMarginMs: 2_000 },
      worker: { namespace: 'engine', checkpointIntervalMs: 1_000, batchSize: 5_000, pollWaitMs: 100 },
    })
    expect(s.workerId).toMatch(/^\S+-\d+-[0-9a-f]{6}$/)
    const env = { TAGSTREAM_STATE: pgUrl, TAGSTREAM_LOG: 'kafka://k:9092', TAGSTREAM_SEGMENTS: 'r.yaml', TAGSTREAM_WORKER_ID: 'w-7', TAGSTREAM_LEASE_MS: '9000', TAGSTREAM_CHECKPOINT_MS: '500' }
    expect(workerSettings(g, {}, env)).toMatchObject({
      logUrl: 'kafka://k:9092',
      segmentsPath: 'r.yaml',
      segmentsNamed: true,
      workerId: 'w-7',
      timing: { leaseMs: 9_000 },
      worker: { checkpointIntervalMs: 500 },
    })
    expect(workerSettings(g, { id: 'flag', leaseMs: '6000' }, env)).toMatchObject({ workerId: 'flag', timing: { leaseMs: 6_000 } })
    expect(workerSettings(g, { sessionMs: '3000' }, { ...env, TAGSTREAM_HEARTBEAT_MS: '500' })).toMatchObject({ timing: { sessionMs: 3_000, heartbeatMs: 500 } })
  })

  it('refuses what cannot work, naming the flag', () => {
    expect(() => workerSettings(g, {}, {})).toThrow('tagstream worker needs --state postgres://host:port/db?schema=name (or TAGSTREAM_STATE)')
    expect(() => workerSettings(g, { state: 'data/state' }, {})).toThrow('; got "data/state"')
    expect(() => workerSettings(g, { state: 'mysql://u:pw@h/db' }, {})).toThrow('; got "mysql://u:***@h/db"')
    // Leases (an embedded log, or --transactions off) and Kafka's group protocol each check their own periods.
    expect(() => workerSettings(g, { state: pgUrl, leaseMs: '2000' }, {})).toThrow('--lease-ms (2000) must be at least --append-margin-ms (2000) + 2 × --heartbeat-ms (250)')
    expect(() => workerSettings(g, { state: pgUrl, leaseMs: '2000', transactions: 'off' }, { TAGSTREAM_LOG: 'kafka://k:9092' })).toThrow('--lease-ms (2000)')
    expect(workerSettings(g, { state: pgUrl, leaseMs: '2000' }, { TAGSTREAM_LOG: 'kafka://k:9092' }).timing.leaseMs).toBe(2_000)
    expect(() => workerSettings(g, { state: pgUrl, sessionMs: '600' }, { TAGSTREAM_LOG: 'kafka://k:9092' })).toThrow('--session-ms (600) must be at least 3 × --heartbeat-ms (250)')
    expect(() => workerSettings(g, { state: pgUrl, sessionMs: 'soon' }, {})).toThrow('--session-ms soon: must be a duration in milliseconds')
    expect(() => workerSettings(g, { state: pgUrl, heartbeatMs: 'often' }, {})).toThrow('--heartbeat-ms often: must be a duration in milliseconds, an integer of at least 10')
    expect(() => workerSettings(g, { state: pgUrl, batchSize: '0' }, {})).toThrow('--batch-size 0: must be an integer of at least 1')
    expect(() => workerSettings(g, { state: pgUrl, id: 'two words' }, {})).toThrow('--id "two words": must be 1 to 200 characters without spaces')
  })
})
