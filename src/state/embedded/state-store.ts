import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { open, type Database, type RootDatabase } from 'lmdb'
import { FencedError, type CheckpointFence, type PartitionCheckpoint, type RuleSetVersion, type StateStore, type UserRecord } from '../state-store.ts'
import { EmbeddedInboxTables } from './inbox-tables.ts'
import { EmbeddedPrivacyTables } from './privacy-tables.ts'

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
    /** [tenant, version] → the version; rule sets are not per namespace: every engine of a server runs them. */
    private readonly ruleSets: Database<RuleSetVersion, Key>,
    /** Erasure jobs and the audit trail (docs/privacy.md). */
    readonly privacy: EmbeddedPrivacyTables,
    /** Players' inboxes (docs/streams.md, "Player notifications"). */
    readonly inbox: EmbeddedInboxTables,
  ) {}

  static open(dir: string): EmbeddedStateStore {
    mkdirSync(resolve(dir), { recursive: true })
    const root = open({ path: resolve(dir), maxDbs: LMDB_MAX_DBS })
    return new EmbeddedStateStore(
      root,
      root.openDB<PartitionCheckpoint, Key>('checkpoints', {}),
      root.openDB<Buffer, Key>('users', { encoding: 'binary' }),
      root.openDB<RuleSetVersion, Key>('rule_sets', {}),
      EmbeddedPrivacyTables.open(root),
      EmbeddedInboxTables.open(root),
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

  async addRuleSet(set: RuleSetVersion): Promise<boolean> {
    const key = [set.tenant, set.version]
    // The check and the write in one write transaction: LMDB runs them one at a time, across threads too.
    return this.root.transaction(() => {
      if (this.ruleSets.get(key) !== undefined) return false
      void this.ruleSets.put(key, { ...set })
      return true
    })
  }

  async getRuleSet(tenant: string, version: number): Promise<RuleSetVersion | null> {
    return this.ruleSets.get([tenant, version]) ?? null
  }

  async latestRuleSets(): Promise<RuleSetVersion[]> {
    const latest = new Map<string, RuleSetVersion>()
    // Keys sort by tenant, then version: the last seen of each tenant is its latest.
    for (const { value } of this.ruleSets.getRange({})) latest.set(value.tenant, value)
    return [...latest.values()]
  }

  async ruleSetHistory(tenant: string, limit: number): Promise<RuleSetVersion[]> {
    const out: RuleSetVersion[] = []
    for (const { value } of this.ruleSets.getRange({ start: [tenant, Number.MAX_SAFE_INTEGER], end: [tenant, 0], reverse: true, limit })) out.push(value)
    return out
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
