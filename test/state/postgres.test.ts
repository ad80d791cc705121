import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { EmbeddedStateStore } from '../../src/state/embedded/state-store.ts'
import { openStateStore } from '../../src/state/open-state.ts'
import { PostgresStateStore } from '../../src/state/postgres/state-store.ts'
import { parsePostgresUrl, redactUrl } from '../../src/state/postgres/url.ts'
import type { PartitionCheckpoint, StateStore } from '../../src/state/state-store.ts'
import { sql, testSchema, TEST_POSTGRES } from './postgres-helpers.ts'
import { runStateStoreContract } from './state-store-contract.ts'

const contract = testSchema('contract')
afterAll(() => contract.drop())

runStateStoreContract('Postgres', () => ({
  open: () => PostgresStateStore.open(contract.url),
  reopen: () => PostgresStateStore.open(contract.url),
  cleanup: () => contract.truncate(),
}))

const bytes = (s: string) => new TextEncoder().encode(s)
const ckpt = (nextOffset: number): PartitionCheckpoint => ({ nextOffset, engine: { maxTs: 5, watermark: 1, stats: { late: 0 } }, outputs: { 'segment-changes': 3 } })

async function keysOf(store: StateStore, ns: string, p: number): Promise<string[]> {
  const out: string[] = []
  for await (const u of store.loadUsers(ns, p)) out.push(u.key)
  return out
}

describe('Postgres state store specifics', () => {
  const s = testSchema('specific')
  let store: PostgresStateStore
  beforeAll(async () => {
    store = await PostgresStateStore.open(s.url, { pageSize: 7 })
  })
  afterEach(() => s.truncate())
  afterAll(async () => {
    await store?.close()
    await s.drop()
  })

  it("creates its tables in the schema the URL names (the game's are the players adapter's: test/players/postgres.test.ts)", async () => {
    const tables = await sql<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [s.schema])
    expect(tables.map((t) => t.table_name)).toEqual(['audit', 'checkpoint_writers', 'checkpoints', 'erasures', 'inbox', 'inbox_positions', 'partition_leases', 'rule_sets', 'users'])
  })

  it('keeps any user key the collector accepts (NUL, non-ASCII, emoji) and lists them in byte order', async () => {
    const keys = ['default:a\u0000b', 'default:é', 'default:\u{1F600}', 'default:Z', 'default:a', 'default:']
    await store.saveCheckpoint(
      'engine',
      0,
      ckpt(1),
      keys.map((key) => ({ key, state: bytes(key) })),
    )
    const byteOrder = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    expect(await keysOf(store, 'engine', 0)).toEqual(byteOrder)
    expect(new TextDecoder().decode((await store.getUser('engine', 0, 'default:a\u0000b'))!)).toBe('default:a\u0000b')
    expect(await store.getUser('engine', 0, 'default:a')).not.toBeNull()
    await store.saveCheckpoint('engine', 0, ckpt(2), [{ key: 'default:a\u0000b', state: null }])
    expect(await store.getUser('engine', 0, 'default:a\u0000b')).toBeNull()
    expect(await keysOf(store, 'engine', 0)).toHaveLength(5)
  })

  it('pages through a partition in key order across page boundaries (page size 7)', async () => {
    for (const n of [0, 1, 7, 14, 50]) {
      await store.reset('paging')
      const keys = Array.from({ length: n }, (_, i) => `k${String(i).padStart(3, '0')}`)
      await store.saveCheckpoint(
        'paging',
        2,
        ckpt(n),
        [...keys].reverse().map((key) => ({ key, state: bytes(key) })),
      )
      await store.saveCheckpoint('paging', 3, ckpt(1), [{ key: 'k000', state: bytes('neighbour') }])
      expect(await keysOf(store, 'paging', 2)).toEqual(keys)
    }
  })

  it('lets the last state of a key repeated in one checkpoint win, as the embedded store does', async () => {
    await store.saveCheckpoint('engine', 0, ckpt(1), [
      { key: 'a', state: bytes('first') },
      { key: 'b', state: bytes('kept') },
      { key: 'a', state: bytes('second') },
      { key: 'b', state: null },
      { key: 'b', state: bytes('back') },
      { key: 'c', state: bytes('gone') },
      { key: 'c', state: null },
    ])
    const got: Array<[string, string]> = []
    for await (const u of store.loadUsers('engine', 0)) got.push([u.key, new TextDecoder().decode(u.state!)])
    expect(got).toEqual([
      ['a', 'second'],
      ['b', 'back'],
    ])
  })

  it('writes a checkpoint all or nothing: a failing user row leaves users and offset as they were', async () => {
    await store.saveCheckpoint('engine', 0, ckpt(10), [
      { key: 'a', state: bytes('a1') },
      { key: 'gone', state: bytes('g') },
    ])
    // A constraint the store knows nothing about makes one row of the next checkpoint fail in the database.
    await sql(`ALTER TABLE ${s.schema}.users ADD CONSTRAINT small_state CHECK (length(state) < 1000)`)
    try {
      const users = Array.from({ length: 2_000 }, (_, i) => ({ key: `u${i}`, state: bytes(i === 1_500 ? 'x'.repeat(1_000) : 'ok') }))
      await expect(store.saveCheckpoint('engine', 0, ckpt(20), [...users, { key: 'a', state: bytes('a2') }, { key: 'gone', state: null }])).rejects.toThrow(/small_state/)
      expect(await store.loadCheckpoint('engine', 0)).toEqual(ckpt(10))
      expect(await keysOf(store, 'engine', 0)).toEqual(['a', 'gone'])
      expect(new TextDecoder().decode((await store.getUser('engine', 0, 'a'))!)).toBe('a1')
    } finally {
      await sql(`ALTER TABLE ${s.schema}.users DROP CONSTRAINT small_state`)
    }
  })

  it('splits a checkpoint too large for one statement into statements of one transaction, still all or nothing', async () => {
    for (const statement of [{ maxUsers: 300 }, { maxBytes: 10_000 }]) {
      await store.reset('engine')
      const small = await PostgresStateStore.open(s.url, { statement })
      try {
        await small.saveCheckpoint('engine', 0, ckpt(10), [{ key: 'gone', state: bytes('g') }])
        const users = Array.from({ length: 2_000 }, (_, i) => ({ key: `u${String(i).padStart(4, '0')}`, state: bytes('s'.repeat(200)) }))
        await small.saveCheckpoint('engine', 0, ckpt(20), [...users, { key: 'gone', state: null }])
        expect(await keysOf(store, 'engine', 0)).toEqual(users.map((u) => u.key))
        expect(await store.loadCheckpoint('engine', 0)).toEqual(ckpt(20))
        await sql(`ALTER TABLE ${s.schema}.users ADD CONSTRAINT small_state CHECK (length(state) < 1000)`)
        try {
          // The failing row is in the last slice: the earlier slices' statements must roll back with it.
          const rewrite = users.map((u, i) => ({ key: u.key, state: bytes(i === 1_999 ? 'x'.repeat(1_000) : 'new') }))
          await expect(small.saveCheckpoint('engine', 0, ckpt(30), [{ key: 'u0000', state: null }, ...rewrite.slice(1)])).rejects.toThrow(/small_state/)
        } finally {
          await sql(`ALTER TABLE ${s.schema}.users DROP CONSTRAINT small_state`)
        }
        expect(await store.loadCheckpoint('engine', 0)).toEqual(ckpt(20))
        expect(await keysOf(store, 'engine', 0)).toHaveLength(2_000)
        expect(new TextDecoder().decode((await store.getUser('engine', 0, 'u0001'))!)).toBe('s'.repeat(200))
      } finally {
        await small.close()
      }
    }
  })

  it('reads the checkpoint back with its key order and numbers exactly as written', async () => {
    const c: PartitionCheckpoint = { nextOffset: 2 ** 53 - 1, engine: { z: 1, a: 0.1 + 0.2, m: -0, nested: { b: [1, 'two', null], a: true } }, outputs: { b: 1, a: 2 } }
    await store.saveCheckpoint('engine', 1, c, [])
    const back = await store.loadCheckpoint('engine', 1)
    expect(JSON.stringify(back)).toBe(JSON.stringify(c))
  })

  it('opens concurrently on a fresh schema (engine thread and API start together)', async () => {
    const fresh = testSchema('race')
    try {
      const stores = await Promise.all(Array.from({ length: 6 }, () => PostgresStateStore.open(fresh.url)))
      await stores[0]!.saveCheckpoint('engine', 0, ckpt(1), [{ key: 'a', state: bytes('a') }])
      expect(await stores[5]!.getUser('engine', 0, 'a')).not.toBeNull()
      await Promise.all(stores.map((st) => st.close()))
    } finally {
      await fresh.drop()
    }
  })
})

describe('state URLs', () => {
  it('reads schema and pool size from the URL and passes the rest to pg', () => {
    expect(parsePostgresUrl('postgres://u:p@db.example:6543/app?schema=game_state&pool=4&sslmode=require')).toEqual({
      connectionString: 'postgres://u:p@db.example:6543/app?sslmode=require',
      schema: 'game_state',
      poolSize: 4,
    })
    expect(parsePostgresUrl('postgresql://127.0.0.1/test')).toMatchObject({ schema: 'tagstream', poolSize: 10 })
  })

  it('refuses schemas that are not plain identifiers and bad pool sizes, naming the parameter', () => {
    expect(() => parsePostgresUrl('postgres://h/db?schema=a;drop')).toThrow(/schema "a;drop" in the state URL must be a lowercase identifier/)
    expect(() => parsePostgresUrl('postgres://h/db?schema=Game')).toThrow(/lowercase identifier/)
    expect(() => parsePostgresUrl('postgres://h/db?schema=1x')).toThrow(/lowercase identifier/)
    expect(() => parsePostgresUrl('postgres://h/db?pool=0')).toThrow('pool in the state URL must be an integer from 1 to 1000, got "0"')
  })

  it('never puts a password in a message', async () => {
    expect(redactUrl('postgres://u:secret@h:5432/db')).toBe('postgres://u:***@h:5432/db')
    const err = await PostgresStateStore.open('postgres://u:secret@127.0.0.1:1/db?schema=x').catch((e: Error) => e)
    expect(err).toBeInstanceOf(Error)
    expect((err as Error).message).toMatch(/^cannot open the Postgres state store at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db/)
    expect((err as Error).message).not.toContain('secret')
  })

  it('opens embedded for paths and file: URLs, Postgres for postgres:// and postgresql://, refuses other schemes', async () => {
    await expect(openStateStore('redis://h:6379')).rejects.toThrow('unsupported state URL scheme in "redis://…"')
    const dir = mkdtempSync(join(tmpdir(), 'tagstream-open-state-'))
    try {
      for (const url of [join(dir, 'a'), `file://${join(dir, 'b')}`, `file:${join(dir, 'c')}`]) {
        const embedded = await openStateStore(url)
        expect(embedded).toBeInstanceOf(EmbeddedStateStore)
        await embedded.close()
      }
      expect(readdirSync(dir).sort()).toEqual(['a', 'b', 'c'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    const s = testSchema('open')
    try {
      const store = await openStateStore(s.url.replace(/^postgres:/, 'postgresql:'))
      expect(store).toBeInstanceOf(PostgresStateStore)
      await store.close()
    } finally {
      await s.drop()
    }
  })

  it('reaches the test server', async () => {
    expect((await sql<{ one: number }>('SELECT 1 AS one'))[0]!.one).toBe(1)
    expect(TEST_POSTGRES).toMatch(/^postgres/)
  })
})
