/**
 * The coordination port of `tagstream worker`: which workers of a group are alive, and which one
 * holds each partition's lease. Safety comes from the lease epoch (every checkpoint is fenced by it,
 * see StateStore.saveCheckpoint); the assignment only decides who should try to hold what.
 * The Postgres adapter (postgres/coordinator.ts) keeps both tables beside the state they guard.
 */

export interface HeldLease {
  partition: number
  /** Grows on every acquisition, so an older holder's fence stops matching. */
  epoch: number
}

export interface Heartbeat {
  /** The group's live workers, this one included, sorted by id (JavaScript string order). */
  workers: string[]
  /** The leases this worker still holds; they stay valid as long as its heartbeats do. */
  leases: HeldLease[]
}

export interface Coordinator {
  readonly workerId: string
  /**
   * Waits until no live worker of the group uses this id (a previous incarnation killed a moment
   * ago, or a second process started with the same --id), then records this worker alive.
   */
  join(): Promise<void>
  /** Records this worker alive for another lease period (and with it its leases); one round trip. */
  heartbeat(): Promise<Heartbeat>
  /** Takes a partition's lease when it is free, its owner's heartbeat expired, or it is already this worker's: the new epoch, or null when a live worker holds it. */
  acquire(partition: number): Promise<number | null>
  /** Gives a lease up at once, if it is still held at this epoch, so the next owner need not wait for it to expire. */
  release(partition: number, epoch: number): Promise<void>
  /** Releases every lease this worker holds and removes it from the group. */
  leave(): Promise<void>
  close(): Promise<void>
}
