/*
 * The client event ids a replay has seen, so a repeated (tenant, event_id) counts once, as it does
 * at the live collector (src/ingest/dedupe.ts). A file has no receive times, so the
 * collector's time horizon becomes a count: the last `max` distinct ids are remembered and the
 * oldest is forgotten first, which bounds memory whatever the size of the file.
 */

/** The collector's `dedupe.maxEntries` default: a replay remembers as many ids as one collector. */
export const DEFAULT_REPLAY_DEDUPE_IDS = 2_000_000

export class SeenIds {
  private readonly keys = new Set<string>()
  /**
   * Keys in the order they were first seen, as a ring: forgetting the oldest is one Set.delete by
   * key. (Deleting from the front of the Set through its iterator would walk past every hole the
   * earlier deletions left, which is quadratic until V8 rehashes the table.)
   */
  private readonly order: string[] = []
  private next = 0

  constructor(readonly max: number = DEFAULT_REPLAY_DEDUPE_IDS) {}

  /** True the first time (tenant, id) is seen among the last `max` distinct ids; false for a repeat. */
  firstTime(tenant: string, id: string): boolean {
    if (this.max <= 0) return true
    // Length-prefixed as the collector's keys are, so no tenant name makes two pairs collide.
    const key = `${tenant.length}:${tenant}:${id}`
    if (this.keys.has(key)) return false
    if (this.order.length < this.max) this.order.push(key)
    else {
      this.keys.delete(this.order[this.next]!)
      this.order[this.next] = key
      this.next = (this.next + 1) % this.max
    }
    this.keys.add(key)
    return true
  }

  get size(): number {
    return this.keys.size
  }
}
