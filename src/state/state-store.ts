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
 * What a checkpoint is written under (src/worker). Either the lease the owner acquired (owner and
 * epoch of the partition's lease row: a takeover bumps the epoch, so a stale owner's fence no longer
 * matches), or the token of the partition's transactional output writer (the log's producer id and
 * epoch, WriterToken in src/log/event-log.ts): a checkpoint is refused once one was written under a
 * later token, so a fenced writer can no more checkpoint than append.
 */
export type CheckpointFence = { owner: string; epoch: number } | { token: { producerId: number; epoch: number } }

/** A fenced checkpoint whose fence no longer holds; nothing of it was written. */
export class FencedError extends Error {
  constructor(namespace: string, partition: number, fence: CheckpointFence) {
    const why =
      'token' in fence ? `a later writer than producer ${fence.token.producerId} epoch ${fence.token.epoch} has checkpointed it` : `its lease is not held by "${fence.owner}" at epoch ${fence.epoch}`
    super(`checkpoint of ${namespace} partition ${partition} refused: ${why}`)
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
 * An erasure of one person (docs/privacy.md): a job the API creates and any server moves on. The
 * store keeps the job; the erase itself is records in the events log that every partition applies.
 */
export interface ErasureJob {
  /** `era_` and 32 hex digits (a UUIDv7's): the id the API answers with. */
  id: string
  tenant: string
  /**
   * The person's ids: the one asked for first, then its linked ids. Once the tombstone has lapsed
   * (retention dropped every event it covered) they are replaced by their SHA-256 hashes, so the
   * audit trail keeps that an erasure happened without keeping whom it erased.
   */
  ids: string[]
  /** The API key that asked (Principal.keyId). */
  by: string
  requestedAt: number
  /** accepted (stored) → erasing (records appended) → done. A step that fails is retried; `error` says why meanwhile. */
  status: 'accepted' | 'erasing' | 'done'
  /** Per events partition (as a string key): the log's end offset before the erase records were appended. */
  from: Record<string, number>
  /** Per events partition: the offset of the job's erase record, once appended. */
  offsets: Record<string, number>
  /** Steps done: the engine has checkpointed past every record, the warehouse files are rewritten. */
  engine: boolean
  warehouse: boolean
  /** True until retention has dropped every event before the records: engines and sinks honour it till then. */
  tombstone: boolean
  finishedAt: number | null
  error: string | null
}

/** One audited act on a person's data (docs/privacy.md): who did what, when. Append-only. */
export interface AuditEntry {
  at: number
  tenant: string
  action: 'erase' | 'export'
  /** The person's id, or its SHA-256 hash once an erasure's tombstone lapsed. */
  subject: string
  /** The API key (Principal.keyId). */
  by: string
  /** The erasure job, for an erase. */
  job: string | null
}

/** Erasure jobs and the audit trail (docs/privacy.md), kept beside the engine's state. */
export interface PrivacyTables {
  /** Stores a new erasure job. False, with nothing written, when a job with that id exists. */
  addErasure(job: ErasureJob): Promise<boolean>
  /** Replaces a stored job (same id) with this version of it. */
  updateErasure(job: ErasureJob): Promise<void>
  getErasure(id: string): Promise<ErasureJob | null>
  /**
   * Jobs, newest first (by requestedAt, then id), at most `limit`: a tenant's, or every tenant's
   * (null); `active` keeps only jobs not done or whose tombstone still holds.
   */
  listErasures(filter: { tenant: string | null; active: boolean; limit: number }): Promise<ErasureJob[]>
  /** Appends an audit entry. */
  addAudit(entry: AuditEntry): Promise<void>
  /** Audit entries, newest first, at most `limit`: a tenant's, or every tenant's (null). */
  auditEntries(tenant: string | null, limit: number): Promise<AuditEntry[]>
  /** Replaces every entry's subject `from` (of that tenant) with `to`: an erasure's ids hashed once its tombstone lapsed. */
  renameAuditSubject(tenant: string, from: string, to: string): Promise<void>
}

/**
 * A message for a player (docs/streams.md, "Player notifications"): written by a trigger with
 * `emit: player` to the `player-notifications` log, then kept in the player's inbox until the game
 * says it was shown.
 */
export interface InboxMessage {
  /** `<event_id>:<trigger>`: one per firing. */
  id: string
  tenant: string
  /** The player (the engine's user id). */
  user_id: string
  trigger: string
  message: string
  /** The triggering event's name and id. */
  event: string
  event_id: string
  /** Event time of the triggering event, epoch ms. */
  at: number
  /** When the inbox took it in, epoch ms: expiry counts from here. */
  storedAt: number
}

/**
 * Players' inboxes: the undelivered messages of the `player-notifications` log, per tenant and
 * player, in log order. Taking records in and moving the read position are one transaction, so a
 * record is stored once however many servers read the log, and a delivered (removed) message never
 * comes back.
 */
export interface InboxTables {
  /** The next offset of `player-notifications` partition `partition` not yet taken in; 0 at first. */
  position(partition: number): Promise<number>
  /**
   * In one transaction, only if the partition's position is still `from`: stores `messages` (read
   * from offsets `from` .. `to` - 1, in log order) and sets the position to `to`. A player left with
   * more than `maxPerPlayer` undelivered messages loses the oldest. Returns null, with nothing
   * written, when the position was not `from` (another server took those records in), else the
   * number of messages dropped by the cap.
   */
  take(partition: number, from: number, to: number, messages: readonly InboxMessage[], maxPerPlayer: number): Promise<number | null>
  /** A player's undelivered messages, oldest first (log order), at most `limit`. */
  undelivered(tenant: string, userId: string, limit: number): Promise<InboxMessage[]>
  /** Removes these messages of the player (delivered); returns how many were there. Unknown ids are ignored. */
  markDelivered(tenant: string, userId: string, ids: readonly string[]): Promise<number>
  /** Removes every undelivered message stored before `before` (epoch ms); returns how many. */
  expire(before: number): Promise<number>
  /** Removes every message of these players of a tenant (an erasure); returns how many. */
  erase(tenant: string, userIds: readonly string[]): Promise<number>
  /** Undelivered messages held, all tenants (a gauge). */
  count(): Promise<number>
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
   * With a lease fence, the same transaction first checks the partition's lease row (kept in this
   * store by a worker coordinator) still names fence.owner at fence.epoch, holding it so a takeover
   * waits for the commit; with a writer token, it records the token unless a later one is recorded.
   * Otherwise it rejects with FencedError and writes nothing. A store that keeps no leases or
   * tokens (embedded: one process owns it) refuses every fenced write.
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
  /** Erasure jobs and the audit trail (docs/privacy.md): not per namespace, and never fenced. */
  readonly privacy: PrivacyTables
  /** Players' inboxes (docs/streams.md, "Player notifications"): not per namespace, and never fenced. */
  readonly inbox: InboxTables
  /** Drops a namespace's checkpoints and users (a full rebuild from the log). */
  reset(namespace: string): Promise<void>
  close(): Promise<void>
}
