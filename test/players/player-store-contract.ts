import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { OutboxEvent, PlayerRecord, PlayerStore, PlayerUpdate } from '../../src/players/player-store.ts'

export interface PlayerStoreHarness {
  open(): Promise<PlayerStore>
  reopen(): Promise<PlayerStore>
  /** Resets the engine's namespace in the state store at the same place: players must not go with it. */
  resetEngine(): Promise<void>
  cleanup(): Promise<void>
}

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
const spend =
  (cost: number) =>
  (p: PlayerRecord): PlayerUpdate<string> =>
    p.wealth < cost
      ? { refuse: 'insufficient_funds' }
      : { write: { ...p, wealth: p.wealth - cost, inventory: [...p.inventory, { kind: 'potion', type: 'elixir', cost, bought_at: 1 }] }, result: 'approved' }

/** The PlayerStore contract: every adapter's test calls this. */
export function runPlayerStoreContract(name: string, harness: () => PlayerStoreHarness): void {
  describe(`PlayerStore contract: ${name}`, () => {
    let h: PlayerStoreHarness
    let store: PlayerStore
    beforeEach(async () => {
      h = harness()
      store = await h.open()
    })
    afterEach(async () => {
      await store.close()
      await h.cleanup()
    })

    describe('players', () => {
      it('has no players before the first is created', async () => {
        expect(await store.getPlayer('default', 'p1')).toBeNull()
        expect(await store.getPlayerByName('default', 'dirk')).toBeNull()
        expect(
          await store.updatePlayer('default', 'p1', () => {
            throw new Error('must not run for a missing player')
          }),
        ).toBeNull()
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
        await expect(
          store.updatePlayer('default', 'p1', () => {
            throw new Error('boom')
          }),
        ).rejects.toThrow('boom')
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
        await h.resetEngine()
        await store.close()
        store = await h.reopen()
        expect(await store.getPlayerByName('default', 'dirk')).toMatchObject({ id: 'p1', wealth: 900, version: 2 })
      })
    })

    describe('game outbox', () => {
      const row = (id: string, at: number, tenant = 'default'): OutboxEvent => ({ tenant, id, at, event: JSON.stringify({ event: 'purchase', event_id: id, tenant, n: 0.1 + 0.2 }) })
      const spendWith =
        (cost: number, id: string, at: number) =>
        (p: PlayerRecord): PlayerUpdate<string> => {
          const d = spend(cost)(p)
          return 'refuse' in d ? d : { ...d, outbox: row(id, at) }
        }

      it('stores an event with the change it records, and none with a refusal, a throw or a refused creation', async () => {
        expect(await store.pendingOutbox(10, Infinity)).toEqual([])
        expect(await store.createPlayer(player(), row('created', 5))).toBe('created')
        expect(await store.createPlayer(player({ id: 'p2' }), row('dup-name', 6))).toBe('duplicate_name')
        expect(await store.updatePlayer('default', 'p1', spendWith(400, 'buy-1', 7))).toBe('approved')
        expect(await store.updatePlayer('default', 'p1', spendWith(4000, 'buy-2', 8))).toBe('insufficient_funds')
        await expect(
          store.updatePlayer('default', 'p1', () => {
            throw new Error('boom')
          }),
        ).rejects.toThrow('boom')
        expect(await store.pendingOutbox(10, Infinity)).toEqual([row('created', 5), row('buy-1', 7)])
        // The event text comes back exactly as written (numbers included).
        expect(JSON.parse((await store.pendingOutbox(1, Infinity))[0]!.event)).toMatchObject({ n: 0.30000000000000004 })
      })

      it('lists the oldest first, only those decided before the bound, at most the limit; removes by row; survives a restart', async () => {
        await store.createPlayer(player())
        for (const [id, at] of [
          ['c', 30],
          ['a', 10],
          ['b', 20],
          ['d', 40],
        ] as const)
          await store.updatePlayer('default', 'p1', spendWith(1, id, at))
        await store.createPlayer(player({ tenant: 'acme' }), row('a', 15, 'acme'))
        expect((await store.pendingOutbox(10, 30)).map((r) => [r.tenant, r.id])).toEqual([
          ['default', 'a'],
          ['acme', 'a'],
          ['default', 'b'],
        ])
        expect((await store.pendingOutbox(2, Infinity)).map((r) => r.id)).toEqual(['a', 'a'])
        await store.removeOutbox([row('a', 10), row('gone', 11)])
        await store.close()
        store = await h.reopen()
        expect((await store.pendingOutbox(10, Infinity)).map((r) => [r.tenant, r.id, r.at])).toEqual([
          ['acme', 'a', 15],
          ['default', 'b', 20],
          ['default', 'c', 30],
          ['default', 'd', 40],
        ])
        await store.removeOutbox([])
      })
    })
  })
}
