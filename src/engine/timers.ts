/**
 * Per-partition timers that re-evaluate users as the watermark passes: how users leave a segment
 * when their activity slides out of the window with no new events of theirs.
 *
 * Ordered by (time, user key). Ties break by key, not insertion order, so a partition restored
 * from a checkpoint fires its timers in the same order as an uninterrupted run. Entries are never
 * removed: a user's current timer is the one matching its `timerAt`, older entries are skipped.
 *
 * A binary min-heap kept as two parallel arrays (times in a Float64Array, users beside them), not
 * as an object per entry: nearly every event reschedules its user, so an entry object each was a
 * steady stream of garbage, and comparing times read one object per step down the heap.
 */
export class TimerQueue<T extends { key: string }> {
  private ats = new Float64Array(1024)
  private items: T[] = []
  private n = 0

  get size(): number {
    return this.n
  }

  /** Time of the earliest entry; Infinity when there is none. */
  peekAt(): number {
    return this.n === 0 ? Infinity : this.ats[0]!
  }

  /** User of the earliest entry; undefined when there is none. */
  peekItem(): T | undefined {
    return this.n === 0 ? undefined : this.items[0]
  }

  add(at: number, item: T): void {
    if (this.n === this.ats.length) {
      const grown = new Float64Array(this.ats.length * 2)
      grown.set(this.ats)
      this.ats = grown
    }
    const ats = this.ats
    const items = this.items
    // Sift the hole up from the end, moving parents down, then put the entry where it stops.
    let i = this.n++
    while (i > 0) {
      const parent = (i - 1) >> 1
      const pa = ats[parent]!
      if (!(at < pa || (at === pa && item.key < items[parent]!.key))) break
      ats[i] = pa
      items[i] = items[parent]!
      i = parent
    }
    ats[i] = at
    items[i] = item
  }

  /** Removes the earliest entry. */
  pop(): void {
    if (this.n === 0) return
    const n = --this.n
    const ats = this.ats
    const items = this.items
    const at = ats[n]!
    const item = items.pop()!
    if (n === 0) return
    // Sift the hole down from the root with the last entry, moving the smaller child up.
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      let m = l
      const r = l + 1
      if (r < n && (ats[r]! < ats[l]! || (ats[r] === ats[l] && items[r]!.key < items[l]!.key))) m = r
      const ma = ats[m]!
      if (!(ma < at || (ma === at && items[m]!.key < item.key))) break
      ats[i] = ma
      items[i] = items[m]!
      i = m
    }
    ats[i] = at
    items[i] = item
  }
}
