import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { open, type Database, type RootDatabase } from 'lmdb'
import { FencedError, type CheckpointFence, type OutboxEvent, type PartitionCheckpoint, type PlayerRecord, type PlayerUpdate, type StateStore, type UserRecord } from '../state-store.ts'

type Key = (string | number)[]

/** LMDB on the local disk, beside the embedded event log; one transaction per checkpoint. */
export class EmbeddedStateStore implements StateStore {
  private constructor(
    private readonly root: RootDatabase,
    private readonly checkpoints: Database<PartitionCheckpoint, Key>,
    private readonly users: Database<Buffer, Key>,
    private readonly players: Database<PlayerRecord, Key>,
    private readonly playerNames: Database<string, Key>,
    /** Keyed [at, tenant, id]: a range read gives the oldest first. */
    private readonly outbox: Database<OutboxEvent, Key>,
  ) {}

  static open(dir: string): EmbeddedStateStore {
    mkdirSync(resolve(dir), { recursive: true })
    const root = open({ path: resolve(dir), maxDbs: 16 })
    return new EmbeddedStateStore(
      root,
      root.openDB<PartitionCheckpoint, Key>('checkpoints', {}),
      root.openDB<Buffer, Key>('users', { encoding: 'binary' }),
      root.openDB<PlayerRecord, Key>('players', {}),
      root.openDB<string, Key>('player-names', {}),
      root.openDB<OutboxEvent, Key>('game-outbox', {}),
    )
  }

  async loadCheckpoint(namespace: string, partition: number): Promise<PartitionCheckpoint | null> {
    return this.checkpoints.get([namespace, partition]) ?? null
  }

  async *loadUsers(namespace: string, partition: number): AsyncIterable<UserRecord> {
    for (const { key, value } of this.users.getRange({ start: [namespace, partition], end: [namespace, partition + 1] })) {
      yield { key: key[2] as string, state: value }
    }
  }

  async getUser(namespace: string, partition: number, key: string): Promise<Uint8Array | null> {
    return this.users.get([namespace, partition, key]) ?? null
  }

  async saveCheckpoint(namespace: string, partition: number, checkpoint: PartitionCheckpoint, users: readonly UserRecord[], fence?: CheckpointFence): Promise<void> {
    // One process owns an embedded store, so no coordinator keeps leases here: no fence can match.
    if (fence) throw new FencedError(namespace, partition, fence)
    await this.root.transaction(() => {
      for (const u of users) {
        if (u.state === null) void this.users.remove([namespace, partition, u.key])
        else void this.users.put([namespace, partition, u.key], Buffer.from(u.state.buffer, u.state.byteOffset, u.state.byteLength))
      }
      void this.checkpoints.put([namespace, partition], checkpoint)
    })
  }

  async reset(namespace: string): Promise<void> {
    await this.root.transaction(() => {
      for (const key of this.checkpoints.getKeys({ start: [namespace], end: [namespace, Number.MAX_SAFE_INTEGER] })) void this.checkpoints.remove(key)
      for (const key of this.users.getKeys({ start: [namespace], end: [namespace, Number.MAX_SAFE_INTEGER] })) void this.users.remove(key)
    })
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
