import type { CheckpointFence, OutboxEvent, PartitionCheckpoint, PlayerRecord, PlayerUpdate, StateStore, UserRecord } from '../state/state-store.ts'

/** The state store as one partition's worker sees it: every checkpoint carries the lease it was acquired under. */
export class FencedStateStore implements StateStore {
  constructor(
    private readonly store: StateStore,
    private readonly fence: CheckpointFence,
  ) {}

  saveCheckpoint(namespace: string, partition: number, checkpoint: PartitionCheckpoint, users: readonly UserRecord[]): Promise<void> {
    return this.store.saveCheckpoint(namespace, partition, checkpoint, users, this.fence)
  }

  loadCheckpoint(namespace: string, partition: number): Promise<PartitionCheckpoint | null> {
    return this.store.loadCheckpoint(namespace, partition)
  }

  loadUsers(namespace: string, partition: number): AsyncIterable<UserRecord> {
    return this.store.loadUsers(namespace, partition)
  }

  getUser(namespace: string, partition: number, key: string): Promise<Uint8Array | null> {
    return this.store.getUser(namespace, partition, key)
  }

  reset(namespace: string): Promise<void> {
    return this.store.reset(namespace)
  }

  getPlayer(tenant: string, id: string): Promise<PlayerRecord | null> {
    return this.store.getPlayer(tenant, id)
  }

  getPlayerByName(tenant: string, name: string): Promise<PlayerRecord | null> {
    return this.store.getPlayerByName(tenant, name)
  }

  createPlayer(player: PlayerRecord, outbox?: OutboxEvent): Promise<'created' | 'duplicate_name' | 'duplicate_id'> {
    return this.store.createPlayer(player, outbox)
  }

  updatePlayer<T>(tenant: string, id: string, update: (current: PlayerRecord) => PlayerUpdate<T>): Promise<T | null> {
    return this.store.updatePlayer(tenant, id, update)
  }

  pendingOutbox(limit: number, before: number): Promise<OutboxEvent[]> {
    return this.store.pendingOutbox(limit, before)
  }

  removeOutbox(events: ReadonlyArray<Pick<OutboxEvent, 'tenant' | 'id' | 'at'>>): Promise<void> {
    return this.store.removeOutbox(events)
  }

  /** The shared store outlives one partition's ownership: closing is the worker process's job. */
  async close(): Promise<void> {}
}
