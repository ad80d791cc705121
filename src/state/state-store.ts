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

export interface StateStore extends PlayerStore {
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
  /** Drops a namespace's checkpoints and users (a full rebuild from the log). */
  reset(namespace: string): Promise<void>
  close(): Promise<void>
}

/** A game player (seeds 002 and 003), kept by the game API. */
export interface PlayerRecord {
  id: string
  tenant: string
  name: string
  /** scrypt hash with its salt and parameters; never returned by the API. */
  password_hash: string
  wealth: number
  health: number
  /** Epoch ms. */
  created: number
  inventory: Array<{ kind: string; type: string; cost: number; bought_at: number }>
  affiliations: Array<{ kind: string; org: string; level: string; joined_at: number }>
  /** Incremented by every update. */
  version: number
}

/** What an atomic player update decides: write the new record, or refuse without writing. */
/**
 * An event written in the same transaction as the player change it records: the game's outbox
 * (docs/game.md, "Player and event together"). The change and its event are stored together or not
 * at all; src/game/outbox-relay.ts appends what is still here to the log and removes it.
 */
export interface OutboxEvent {
  tenant: string
  /** The event's event_id, unique within the tenant: the row's key, and how a relay knows it was appended. */
  id: string
  /** When the transaction decided, epoch ms: the order the relay appends in. */
  at: number
  /** The event as validated (src/events/envelope.ts TrackedEvent), as JSON. */
  event: string
}

/** A decision on a player: write it (and its event, if given) or leave it as it is. */
export type PlayerUpdate<T> = { write: PlayerRecord; result: T; outbox?: OutboxEvent } | { refuse: T }

/**
 * Players, as the game API needs them. Updates are atomic read-modify-write: `update` runs on the
 * current record inside the store's transaction, so concurrent purchases never overspend.
 */
export interface PlayerStore {
  getPlayer(tenant: string, id: string): Promise<PlayerRecord | null>
  getPlayerByName(tenant: string, name: string): Promise<PlayerRecord | null>
  /**
   * Names and ids are unique per tenant; both are checked in the same transaction as the write. The
   * outbox event, if given, is written in that transaction too (and not at all when refused).
   */
  createPlayer(player: PlayerRecord, outbox?: OutboxEvent): Promise<'created' | 'duplicate_name' | 'duplicate_id'>
  /** null when the player does not exist. A write's outbox event is stored in the same transaction. */
  updatePlayer<T>(tenant: string, id: string, update: (current: PlayerRecord) => PlayerUpdate<T>): Promise<T | null>
  /** Up to `limit` outbox events decided before `before` (epoch ms), oldest first. */
  pendingOutbox(limit: number, before: number): Promise<OutboxEvent[]>
  /** Removes outbox events once their events are in the log; ones already gone are ignored. */
  removeOutbox(events: ReadonlyArray<Pick<OutboxEvent, 'tenant' | 'id' | 'at'>>): Promise<void>
}
