import type { CheckpointFence, InboxTables, PartitionCheckpoint, PrivacyTables, RuleSetVersion, StateStore, UserRecord } from '../state/state-store.ts'

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

  addRuleSet(set: RuleSetVersion): Promise<boolean> {
    return this.store.addRuleSet(set)
  }

  getRuleSet(tenant: string, version: number): Promise<RuleSetVersion | null> {
    return this.store.getRuleSet(tenant, version)
  }

  latestRuleSets(): Promise<RuleSetVersion[]> {
    return this.store.latestRuleSets()
  }

  ruleSetHistory(tenant: string, limit: number): Promise<RuleSetVersion[]> {
    return this.store.ruleSetHistory(tenant, limit)
  }

  /** Not per partition: a worker never fences them. */
  get privacy(): PrivacyTables {
    return this.store.privacy
  }

  /** Not per partition either: inboxes are filled from their own log and never fenced. */
  get inbox(): InboxTables {
    return this.store.inbox
  }

  reset(namespace: string): Promise<void> {
    return this.store.reset(namespace)
  }

  /** The shared store outlives one partition's ownership: closing is the worker process's job. */
  async close(): Promise<void> {}
}
