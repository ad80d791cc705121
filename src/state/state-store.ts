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

/** Engine state: checkpoints and users per partition. The game's players have their own port (src/players/). */
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
  /** Drops a namespace's checkpoints and users (a full rebuild from the log). */
  reset(namespace: string): Promise<void>
  close(): Promise<void>
}
