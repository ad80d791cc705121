/** A binary min-heap under a strict order `less`: the timers' and the held events' queue. */
export class MinHeap<T> {
  private heap: T[] = []

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.heap.length
  }

  peek(): T | undefined {
    return this.heap[0]
  }

  values(): readonly T[] {
    return this.heap
  }

  push(item: T): void {
    const h = this.heap
    h.push(item)
    let i = h.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.less(h[i]!, h[parent]!)) break
      ;[h[i], h[parent]] = [h[parent]!, h[i]!]
      i = parent
    }
  }

  pop(): T | undefined {
    const h = this.heap
    const top = h[0]
    const last = h.pop()
    if (h.length > 0 && last !== undefined) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m]!, h[i]!]
        i = m
      }
    }
    return top
  }

  /** Drops the items `drop` picks (rare: an erase), keeping the rest in heap order. Returns how many went. */
  removeWhere(drop: (item: T) => boolean): number {
    const kept = this.heap.filter((x) => !drop(x))
    const gone = this.heap.length - kept.length
    if (gone === 0) return 0
    this.heap = []
    for (const x of kept) this.push(x)
    return gone
  }

  clear(): void {
    this.heap = []
  }
}
