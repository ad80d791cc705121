import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { open, type Database, type RootDatabase } from 'lmdb'
import { LMDB_MAX_DBS } from '../../state/embedded/state-store.ts'
import type { OutboxEvent, PlayerRecord, PlayerStore, PlayerUpdate } from '../player-store.ts'

type Key = (string | number)[]

/**
 * Players and the game outbox in LMDB, in the state store's directory (the same environment, its
 * own named databases), where they were before players had their own port.
 */
export class EmbeddedPlayerStore implements PlayerStore {
  private constructor(
    private readonly root: RootDatabase,
    private readonly players: Database<PlayerRecord, Key>,
    private readonly playerNames: Database<string, Key>,
    /** Keyed [at, tenant, id]: a range read gives the oldest first. */
    private readonly outbox: Database<OutboxEvent, Key>,
  ) {}

  static open(dir: string): EmbeddedPlayerStore {
    mkdirSync(resolve(dir), { recursive: true })
    const root = open({ path: resolve(dir), maxDbs: LMDB_MAX_DBS })
    return new EmbeddedPlayerStore(root, root.openDB<PlayerRecord, Key>('players', {}), root.openDB<string, Key>('player-names', {}), root.openDB<OutboxEvent, Key>('game-outbox', {}))
  }

  async getPlayer(tenant: string, id: string): Promise<PlayerRecord | null> {
    return this.players.get([tenant, id]) ?? null
  }

  async getPlayerByName(tenant: string, name: string): Promise<PlayerRecord | null> {
    const id = this.playerNames.get([tenant, name])
    return id === undefined ? null : (this.players.get([tenant, id]) ?? null)
  }

  async createPlayer(player: PlayerRecord, outbox?: OutboxEvent): Promise<'created' | 'duplicate_name' | 'duplicate_id'> {
    // The name check and both writes share one write transaction: two registrations of one name
    // cannot both succeed.
    return this.root.transaction(() => {
      if (this.playerNames.get([player.tenant, player.name]) !== undefined) return 'duplicate_name' as const
      if (this.players.get([player.tenant, player.id]) !== undefined) return 'duplicate_id' as const
      void this.players.put([player.tenant, player.id], player)
      void this.playerNames.put([player.tenant, player.name], player.id)
      if (outbox) void this.outbox.put([outbox.at, outbox.tenant, outbox.id], outbox)
      return 'created' as const
    })
  }

  async updatePlayer<T>(tenant: string, id: string, update: (current: PlayerRecord) => PlayerUpdate<T>): Promise<T | null> {
    // Read, decide and write inside one write transaction: transactions are serialised, so 100
    // concurrent purchases each see the wealth the previous one left.
    return this.root.transaction(() => {
      const current = this.players.get([tenant, id])
      if (current === undefined) return null
      const decision = update(current)
      if ('refuse' in decision) return decision.refuse
      void this.players.put([tenant, id], { ...decision.write, version: current.version + 1 })
      const event = decision.outbox
      if (event) void this.outbox.put([event.at, event.tenant, event.id], event)
      return decision.result
    })
  }

  async pendingOutbox(limit: number, before: number): Promise<OutboxEvent[]> {
    return [...this.outbox.getRange({ end: [before], limit }).map(({ value }) => value)]
  }

  async removeOutbox(events: ReadonlyArray<Pick<OutboxEvent, 'tenant' | 'id' | 'at'>>): Promise<void> {
    if (events.length === 0) return
    await this.root.transaction(() => {
      for (const e of events) void this.outbox.remove([e.at, e.tenant, e.id])
    })
  }

  async close(): Promise<void> {
    await this.root.close()
  }
}
