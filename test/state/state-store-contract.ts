import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FencedError, type OutboxEvent, type PartitionCheckpoint, type PlayerRecord, type PlayerUpdate, type StateStore } from '../../src/state/state-store.ts'

export interface StateStoreHarness {
  open(): Promise<StateStore>
  reopen(): Promise<StateStore>
  cleanup(): Promise<void>
}

const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b))
const ckpt = (nextOffset: number): PartitionCheckpoint => ({ nextOffset, engine: { watermark: nextOffset * 10, late: 1 }, outputs: { 'segment-changes': nextOffset / 2 } })

const player = (over: Partial<PlayerRecord> = {}): PlayerRecord => ({
  id: 'p1',
  tenant: 'default',
  name: 'dirk',
  password_hash: 'scrypt$16384$8$1$c2FsdA==$aGFzaA==',
  wealth: 1000,
  health: 100,
  created: 1_795_000_000_000,
  inventory: [],
  affiliations: [],
  version: 1,
  ...over,
})

/** A purchase decision as the game API makes it: pay when the wealth covers the cost, else refuse. */
const spend = (cost: number) => (p: PlayerRecord): PlayerUpdate<string> =>
  p.wealth < cost
    ? { refuse: 'insufficient_funds' }
    : { write: { ...p, wealth: p.wealth - cost, inventory: [...p.inventory, { kind: 'potion', type: 'elixir', cost, bought_at: 1 }] }, result: 'approved' }

async function collect(store: StateStore, ns: string, p: number) {
  const out: Array<[string, string | null]> = []
  for await (const u of store.loadUsers(ns, p)) out.push([u.key, text(u.state)])
  return out
}

/** The StateStore contract: every adapter's test calls this. */
export function runStateStoreContract(name: string, harness: () => StateStoreHarness): void {
  describe(`StateStore contract: ${name}`, () => {
    let h: StateStoreHarness
    let store: StateStore
    beforeEach(async () => {
      h = harness()
      store = await h.open()
    })
    afterEach(async () => {
      await store.close()
      await h.cleanup()
    })

    it('has no checkpoint and no users before the first save', async () => {
      expect(await store.loadCheckpoint('engine', 0)).toBeNull()
      expect(await collect(store, 'engine', 0)).toEqual([])
      expect(await store.getUser('engine', 0, 'default:1')).toBeNull()
    })

    it('saves a checkpoint with its users and reads them back', async () => {
      await store.saveCheckpoint('engine', 3, ckpt(100), [
        { key: 'default:2', state: bytes('two') },
        { key: 'default:1', state: bytes('one') },
      ])
      expect(await store.loadCheckpoint('engine', 3)).toEqual(ckpt(100))
      expect(await collect(store, 'engine', 3)).toEqual([
        ['default:1', 'one'],
        ['default:2', 'two'],
      ])
      expect(text(await store.getUser('engine', 3, 'default:2'))).toBe('two')
    })

    it('updates and deletes users in later checkpoints and keeps partitions and namespaces apart', async () => {
      await store.saveCheckpoint('engine', 0, ckpt(10), [{ key: 'a', state: bytes('a1') }, { key: 'b', state: bytes('b1') }])
      await store.saveCheckpoint('engine', 1, ckpt(20), [{ key: 'a', state: bytes('other partition') }])
      await store.saveCheckpoint('other', 0, ckpt(30), [{ key: 'a', state: bytes('other namespace') }])
      await store.saveCheckpoint('engine', 0, ckpt(12), [{ key: 'a', state: bytes('a2') }, { key: 'b', state: null }])
      expect(await collect(store, 'engine', 0)).toEqual([['a', 'a2']])
      expect(await collect(store, 'engine', 1)).toEqual([['a', 'other partition']])
      expect(await collect(store, 'other', 0)).toEqual([['a', 'other namespace']])
      expect((await store.loadCheckpoint('engine', 0))!.nextOffset).toBe(12)
    })

    it('keeps everything across a restart and can reset a namespace', async () => {
      await store.saveCheckpoint('engine', 0, ckpt(10), [{ key: 'a', state: new Uint8Array([0, 255, 7]) }])
      await store.saveCheckpoint('keep', 0, ckpt(5), [{ key: 'z', state: bytes('z') }])
      await store.close()
      store = await h.reopen()
      expect(await store.loadCheckpoint('engine', 0)).toEqual(ckpt(10))
      expect([...(await store.getUser('engine', 0, 'a'))!]).toEqual([0, 255, 7])
      await store.reset('engine')
      expect(await store.loadCheckpoint('engine', 0)).toBeNull()
      expect(await collect(store, 'engine', 0)).toEqual([])
      expect(await collect(store, 'keep', 0)).toEqual([['z', 'z']])
    })

    it('writes large checkpoints atomically', async () => {
      const users = Array.from({ length: 5_000 }, (_, i) => ({ key: `u${String(i).padStart(5, '0')}`, state: bytes('x'.repeat(200)) }))
      await store.saveCheckpoint('engine', 0, ckpt(1), users)
      expect((await collect(store, 'engine', 0)).length).toBe(5_000)
    })

    it('refuses a fenced checkpoint under a lease it does not hold, writing nothing', async () => {
      await store.saveCheckpoint('engine', 2, ckpt(10), [{ key: 'a', state: bytes('a1') }])
      const fenced = store.saveCheckpoint('engine', 2, ckpt(20), [{ key: 'a', state: bytes('a2') }, { key: 'b', state: bytes('b') }], { owner: 'w1', epoch: 1 })
      await expect(fenced).rejects.toThrow(FencedError)
      await expect(fenced).rejects.toThrow('checkpoint of engine partition 2 refused: its lease is not held by "w1" at epoch 1')
      expect(await store.loadCheckpoint('engine', 2)).toEqual(ckpt(10))
      expect(await collect(store, 'engine', 2)).toEqual([['a', 'a1']])
    })

    describe('players', () => {
      it('has no players before the first is created', async () => {
        expect(await store.getPlayer('default', 'p1')).toBeNull()
        expect(await store.getPlayerByName('default', 'dirk')).toBeNull()
        expect(await store.updatePlayer('default', 'p1', () => { throw new Error('must not run for a missing player') })).toBeNull()
      })

      it('creates a player and reads it back by id and by name, in its tenant only', async () => {
        expect(await store.createPlayer(player())).toBe('created')
        expect(await store.getPlayer('default', 'p1')).toEqual(player())
        expect(await store.getPlayerByName('default', 'dirk')).toEqual(player())
        expect(await store.getPlayer('acme', 'p1')).toBeNull()
        expect(await store.getPlayerByName('acme', 'dirk')).toBeNull()
      })

      it('refuses a duplicate name in a tenant, leaving the first player as it was', async () => {
        await store.createPlayer(player())
        expect(await store.createPlayer(player({ id: 'p2', wealth: 5 }))).toBe('duplicate_name')
        expect(await store.getPlayer('default', 'p2')).toBeNull()
        expect(await store.getPlayerByName('default', 'dirk')).toEqual(player())
        expect(await store.createPlayer(player({ tenant: 'acme' }))).toBe('created')
        expect(await store.createPlayer(player({ id: 'p3', name: 'Dirk' }))).toBe('created')
      })

      it('refuses a taken id, even with another name, without overwriting', async () => {
        await store.createPlayer(player())
        const [a, b] = await Promise.all([store.createPlayer(player({ id: 'same', name: 'x' })), store.createPlayer(player({ id: 'same', name: 'y' }))])
        expect([a, b].sort()).toEqual(['created', 'duplicate_id'])
        expect(await store.createPlayer(player({ name: 'other' }))).toBe('duplicate_id')
        expect(await store.getPlayer('default', 'p1')).toEqual(player())
      })

      it('lets exactly one of concurrent creations of one name win', async () => {
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.createPlayer(player({ id: `p${i}` }))))
        expect(results.filter((r) => r === 'created')).toHaveLength(1)
        const winner = results.indexOf('created')
        expect((await store.getPlayerByName('default', 'dirk'))!.id).toBe(`p${winner}`)
      })

      it('updates atomically: writes the new record with the version incremented, returns the result', async () => {
        await store.createPlayer(player())
        expect(await store.updatePlayer('default', 'p1', spend(30))).toBe('approved')
        const after = await store.getPlayer('default', 'p1')
        expect(after).toMatchObject({ wealth: 970, version: 2, inventory: [{ kind: 'potion', type: 'elixir', cost: 30, bought_at: 1 }] })
        expect(await store.getPlayerByName('default', 'dirk')).toEqual(after)
      })

      it('writes nothing when the update refuses, and returns the refusal', async () => {
        await store.createPlayer(player({ wealth: 10 }))
        expect(await store.updatePlayer('default', 'p1', spend(30))).toBe('insufficient_funds')
        expect(await store.getPlayer('default', 'p1')).toEqual(player({ wealth: 10 }))
      })

      it('writes nothing when the update throws, and rejects', async () => {
        await store.createPlayer(player())
        await expect(store.updatePlayer('default', 'p1', () => { throw new Error('boom') })).rejects.toThrow('boom')
        expect(await store.getPlayer('default', 'p1')).toEqual(player())
      })

      it('serialises concurrent updates: 100 purchases of 30 on 1000 never overspend', async () => {
        await store.createPlayer(player())
        const results = await Promise.all(Array.from({ length: 100 }, () => store.updatePlayer('default', 'p1', spend(30))))
        expect(results.filter((r) => r === 'approved')).toHaveLength(33)
        expect(results.filter((r) => r === 'insufficient_funds')).toHaveLength(67)
        expect(await store.getPlayer('default', 'p1')).toMatchObject({ wealth: 10, version: 34 })
        expect((await store.getPlayer('default', 'p1'))!.inventory).toHaveLength(33)
      })

      it('keeps players across a restart and apart from engine namespaces', async () => {
        await store.createPlayer(player())
        await store.updatePlayer('default', 'p1', spend(100))
        await store.reset('engine')
        await store.close()
        store = await h.reopen()
        expect(await store.getPlayerByName('default', 'dirk')).toMatchObject({ id: 'p1', wealth: 900, version: 2 })
      })
    })

    describe('game outbox', () => {
      const row = (id: string, at: number, tenant = 'default'): OutboxEvent => ({ tenant, id, at, event: JSON.stringify({ event: 'purchase', event_id: id, tenant, n: 0.1 + 0.2 }) })
      const spendWith = (cost: number, id: string, at: number) => (p: PlayerRecord): PlayerUpdate<string> => {
        const d = spend(cost)(p)
        return 'refuse' in d ? d : { ...d, outbox: row(id, at) }
      }

      it('stores an event with the change it records, and none with a refusal, a throw or a refused creation', async () => {
        expect(await store.pendingOutbox(10, Infinity)).toEqual([])
        expect(await store.createPlayer(player(), row('created', 5))).toBe('created')
        expect(await store.createPlayer(player({ id: 'p2' }), row('dup-name', 6))).toBe('duplicate_name')
        expect(await store.updatePlayer('default', 'p1', spendWith(400, 'buy-1', 7))).toBe('approved')
        expect(await store.updatePlayer('default', 'p1', spendWith(4000, 'buy-2', 8))).toBe('insufficient_funds')
        await expect(store.updatePlayer('default', 'p1', () => { throw new Error('boom') })).rejects.toThrow('boom')
        expect(await store.pendingOutbox(10, Infinity)).toEqual([row('created', 5), row('buy-1', 7)])
        // The event text comes back exactly as written (numbers included).
        expect(JSON.parse((await store.pendingOutbox(1, Infinity))[0]!.event)).toMatchObject({ n: 0.30000000000000004 })
      })

      it('lists the oldest first, only those decided before the bound, at most the limit; removes by row; survives a restart', async () => {
        await store.createPlayer(player())
        for (const [id, at] of [['c', 30], ['a', 10], ['b', 20], ['d', 40]] as const) await store.updatePlayer('default', 'p1', spendWith(1, id, at))
        await store.createPlayer(player({ tenant: 'acme' }), row('a', 15, 'acme'))
        expect((await store.pendingOutbox(10, 30)).map((r) => [r.tenant, r.id])).toEqual([['default', 'a'], ['acme', 'a'], ['default', 'b']])
        expect((await store.pendingOutbox(2, Infinity)).map((r) => r.id)).toEqual(['a', 'a'])
        await store.removeOutbox([row('a', 10), row('gone', 11)])
        await store.close()
        store = await h.reopen()
        expect((await store.pendingOutbox(10, Infinity)).map((r) => [r.tenant, r.id, r.at])).toEqual([['acme', 'a', 15], ['default', 'b', 20], ['default', 'c', 30], ['default', 'd', 40]])
        await store.removeOutbox([])
      })
    })
  })
}
