/**
 * The state store port: engine checkpoints (per partition: the engine's clock and the next input
 * offset, written atomically with the users that changed) and the data the APIs read.
 * Every adapter passes test/state/state-store-contract.ts.
 */

export interface PartitionCheckpoint {
  /** Next offset of the events topic to process. */
  nextOffset: number
  /** Engine clock and counters, opaque to the store. */
  engine: Record<string, unknown>
  /** Per output topic: the partition's end offset once everything up to nextOffset was written. */
  outputs: Record<string, number>
}

/**
 * Whose lease a checkpoint is written under (src/worker): the owner and epoch the partition's lease
 * row held when this owner acquired it. A takeover bumps the epoch, so a stale owner's fence no longer matches.
 */
export interface CheckpointFence {
  owner: string
  epoch: number
}

/** A fenced checkpoint whose lease is no longer held as the fence says; nothing of it was written. */
export class FencedError extends Error {
  constructor(namespace: string, partition: number, fence: CheckpointFence) {
    super(`checkpoint of ${namespace} partition ${partition} refused: its lease is not held by "${fence.owner}" at epoch ${fence.epoch}`)
    this.name = 'FencedError'
  }
}

export interface UserRecord {
  key: string
  /** Engine state, opaque to the store; null deletes the user. */
  state: Uint8Array | null
}

/**
 * One version of a tenant's own rule set (docs/tenancy.md). Every version is kept: a checkpoint names
 * the versions in effect at its offset, and the versions are the audit trail of who changed what.
 */
export interface RuleSetVersion {
  tenant: string
  /** 1, 2, 3… per tenant. */
  version: number
  /** The tenant's own segments and triggers as YAML. */
  text: string
  /** The API key that made the change. */
  by: string
  /** When, in ms since the epoch. */
  at: number
}

/**
 * Engine state: checkpoints and users per partition, and the tenants' rule sets they run. The
 * game's players have their own port (src/players/).
 */
export interface StateStore {
  /** The checkpoint of one engine partition, or null before the first one. */
  loadCheckpoint(namespace: string, partition: number): Promise<PartitionCheckpoint | null>
  /** Every user stored for the partition, in key order. */
  loadUsers(namespace: string, partition: number): AsyncIterable<UserRecord>
  /** Reads one user's stored state. */
  getUser(namespace: string, partition: number, key: string): Promise<Uint8Array | null>
  /**
   * Writes the checkpoint and the changed users in one atomic transaction: after a crash either all
   * of it is there or none of it, so state and input offset never disagree.
   * With a fence, the same transaction first checks the partition's lease row (kept in this store by
   * a worker coordinator) still names fence.owner at fence.epoch, holding it so a takeover waits for
   * the commit; otherwise it rejects with FencedError and writes nothing. A store that keeps no
   * leases (embedded) refuses every fenced write.
   */
  saveCheckpoint(namespace: string, partition: number, checkpoint: PartitionCheckpoint, users: readonly UserRecord[], fence?: CheckpointFence): Promise<void>
  /**
   * Stores a new version of a tenant's rule set. False, with nothing written, when that tenant
   * already has that version: a concurrent change got there first.
   */
  addRuleSet(set: RuleSetVersion): Promise<boolean>
  /** One version of a tenant's rule set, or null. */
  getRuleSet(tenant: string, version: number): Promise<RuleSetVersion | null>
  /** The latest version of each tenant that has one, by tenant. */
  latestRuleSets(): Promise<RuleSetVersion[]>
  /** A tenant's versions, newest first, at most `limit`. */
  ruleSetHistory(tenant: string, limit: number): Promise<RuleSetVersion[]>
  /** Drops a namespace's checkpoints and users (a full rebuild from the log). */
  reset(namespace: string): Promise<void>
  close(): Promise<void>
}
