import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { open, type Database, type RootDatabase } from 'lmdb'
import { FencedError, type CheckpointFence, type PartitionCheckpoint, type StateStore, type UserRecord } from '../state-store.ts'

type Key = (string | number)[]

/**
 * Named databases one environment may hold. The players adapter (src/players/embedded/) opens the
 * same directory with the same setting: LMDB wants one value for an environment's life.
 */
export const LMDB_MAX_DBS = 16

/** LMDB on the local disk, beside the embedded event log; one transaction per checkpoint. */
export class EmbeddedStateStore implements StateStore {
  private constructor(
    private readonly root: RootDatabase,
    private readonly checkpoints: Database<PartitionCheckpoint, Key>,
    private readonly users: Database<Buffer, Key>,
  ) {}

  static open(dir: string): EmbeddedStateStore {
    mkdirSync(resolve(dir), { recursive: true })
    const root = open({ path: resolve(dir), maxDbs: LMDB_MAX_DBS })
    return new EmbeddedStateStore(root, root.openDB<PartitionCheckpoint, Key>('checkpoints', {}), root.openDB<Buffer, Key>('users', { encoding: 'binary' }))
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

  async close(): Promise<void> {
    await this.root.close()
  }
}
