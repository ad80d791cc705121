/**
 * Per-partition timers that re-evaluate users as the watermark passes: how users leave a segment
 * when their activity slides out of the window with no new events of theirs.
 *
 * A binary min-heap ordered by (time, user key). Ties break by key, not insertion order, so a
 * partition restored from a checkpoint fires its timers in the same order as an uninterrupted run.
 * Entries are never removed: a user's current timer is the one matching its `timerAt`, older
 * entries are skipped when popped.
 */
export interface TimerEntry<T extends { key: string }> {
  at: number
  item: T
}

export class TimerQueue<T extends { key: string }> {
  private heap: TimerEntry<T>[] = []

  get size(): number {
    return this.heap.length
  }

  push(at: number, item: T): void {
    const h = this.heap
    h.push({ at, item })
    let i = h.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!less(h[i]!, h[parent]!)) break
      ;[h[i], h[parent]] = [h[parent]!, h[i]!]
      i = parent
    }
  }

  peek(): TimerEntry<T> | undefined {
    return this.heap[0]
  }

  pop(): TimerEntry<T> | undefined {
    const h = this.heap
    const top = h[0]
    const last = h.pop()
    if (h.length > 0 && last) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && less(h[l]!, h[m]!)) m = l
        if (r < h.length && less(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m]!, h[i]!]
        i = m
      }
    }
    return top
  }

  clear(): void {
    this.heap = []
  }
}

function less<T extends { key: string }>(a: TimerEntry<T>, b: TimerEntry<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.item.key < b.item.key)
}
