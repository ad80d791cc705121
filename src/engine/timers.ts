import { MinHeap } from './min-heap.ts'

/**
 * Per-partition timers that re-evaluate users as the watermark passes: how users leave a segment
 * when their activity slides out of the window with no new events of theirs.
 *
 * Ordered by (time, user key). Ties break by key, not insertion order, so a partition restored
 * from a checkpoint fires its timers in the same order as an uninterrupted run. Entries are never
 * removed: a user's current timer is the one matching its `timerAt`, older entries are skipped.
 */
export interface TimerEntry<T extends { key: string }> {
  at: number
  item: T
}

export class TimerQueue<T extends { key: string }> extends MinHeap<TimerEntry<T>> {
  constructor() {
    super((a, b) => a.at < b.at || (a.at === b.at && a.item.key < b.item.key))
  }

  add(at: number, item: T): void {
    this.push({ at, item })
  }
}
