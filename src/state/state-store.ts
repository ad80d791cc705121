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

export interface UserRecord {
  key: string
  /** Engine state, opaque to the store; null deletes the user. */
  state: Uint8Array | null
}

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
   */
  saveCheckpoint(namespace: string, partition: number, checkpoint: PartitionCheckpoint, users: readonly UserRecord[]): Promise<void>
  /** Drops a namespace's checkpoints and users (a full rebuild from the log). */
  reset(namespace: string): Promise<void>
  close(): Promise<void>
}
