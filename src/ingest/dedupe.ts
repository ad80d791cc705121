/*
 * De-duplication by client event_id. SDKs retry a batch whose answer was lost; the retry carries the
 * same event ids, and those events must not be counted twice. An id is "seen" for `horizonMs` after
 * the batch that carried it became durable. While a request is in flight its ids are "pending" and
 * also count as seen, so two concurrent retries cannot both be appended; when the append fails the
 * pending ids are released and a retry is accepted.
 *
 * The horizon lives in memory; a restarted server rebuilds it from the log before it takes a request
 * (./dedupe-restore.ts, docs/collector.md). At most `maxEntries` ids are remembered; beyond that the
 * oldest are forgotten first, so memory stays bounded.
 *
 * Keys are tenant-scoped: the same event_id from two tenants is two events.
 */

export interface DedupeOptions {
  horizonMs: number
  maxEntries: number
}

/** Marks an id claimed by a request whose append has not finished yet. */
const PENDING = -1

export class Deduper {
  /**
   * key → time the id was marked (ms), or PENDING. One map for both states keeps a claim to one
   * lookup and one insert. A Map iterates in insertion order, which is oldest first.
   */
  private readonly ids = new Map<string, number>()
  private pending = 0

  constructor(private readonly options: DedupeOptions) {}

  get settings(): Readonly<DedupeOptions> {
    return this.options
  }

  /** The key prefix of a tenant; compute it once per request, then `prefix + event_id` per event. */
  static prefix(tenant: string): string {
    // Length-prefixed, so no tenant name can make two (tenant, id) pairs collide.
    return `${tenant.length}:${tenant}:`
  }

  static key(tenant: string, eventId: string): string {
    return Deduper.prefix(tenant) + eventId
  }

  /**
   * True when the key is new: it becomes pending and the caller appends the event. False when it was
   * marked within the horizon or is pending in this or another request: the event is a duplicate.
   */
  claim(key: string, now: number): boolean {
    const ids = this.ids
    const at = ids.get(key)
    if (at !== undefined) {
      if (at === PENDING || now - at < this.options.horizonMs) return false
      // Expired: re-inserted below, at the end, so the map stays ordered by time.
      ids.delete(key)
    }
    ids.set(key, PENDING)
    this.pending++
    return true
  }

  /** Where a key stands, without claiming it: in a request's hands, seen within the horizon, or new. */
  status(key: string, now: number): 'pending' | 'seen' | 'new' {
    const at = this.ids.get(key)
    if (at === undefined) return 'new'
    if (at === PENDING) return 'pending'
    return now - at < this.options.horizonMs ? 'seen' : 'new'
  }

  /** After a successful append: the claimed keys become seen as of `now`. */
  commit(keys: readonly string[], now: number): void {
    const ids = this.ids
    for (let i = 0; i < keys.length; i++) ids.set(keys[i]!, now)
    this.pending -= keys.length
    this.evict(now)
  }

  /**
   * Marks ids accepted before a restart as seen at their receive times (`seen` oldest first), then
   * forgets what the horizon and maxEntries would have forgotten by `now`. A key seen twice keeps its
   * later time, moved to its place in time order. Called before the first claim, so the map stays
   * in time order.
   */
  restore(seen: ReadonlyArray<{ key: string; at: number }>, now: number): void {
    const ids = this.ids
    for (let i = 0; i < seen.length; i++) {
      const { key, at } = seen[i]!
      const had = ids.get(key)
      if (had === PENDING) continue
      if (had !== undefined) ids.delete(key)
      ids.set(key, at)
    }
    this.evict(now)
  }

  /** After a failed append: the claimed keys are forgotten, so a retry is not taken for a duplicate. */
  release(keys: readonly string[]): void {
    for (let i = 0; i < keys.length; i++) this.ids.delete(keys[i]!)
    this.pending -= keys.length
  }

  /** Forgets ids past the horizon and, beyond maxEntries, the oldest ones (never a pending one). */
  evict(now: number): void {
    const { horizonMs, maxEntries } = this.options
    let over = this.ids.size - maxEntries
    for (const [key, at] of this.ids) {
      if (at === PENDING) {
        if (over > 0) continue
        break
      }
      if (over <= 0 && now - at < horizonMs) break
      this.ids.delete(key)
      over--
    }
  }

  /** Ids remembered, pending ones included. */
  get size(): number {
    return this.ids.size
  }

  get pendingCount(): number {
    return this.pending
  }
}
