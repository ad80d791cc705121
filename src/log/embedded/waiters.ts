/** Wakes readers parked at the end of a partition when an append makes new records visible. */
export class Waiters {
  private readonly parked = new Map<string, Set<() => void>>()

  wait(key: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.parked.get(key)
      if (!set) this.parked.set(key, (set = new Set()))
      const done = () => {
        clearTimeout(timer)
        set.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      set.add(done)
    })
  }

  wake(key: string): void {
    const set = this.parked.get(key)
    if (!set) return
    for (const done of [...set]) done()
  }

  wakeAll(): void {
    for (const key of [...this.parked.keys()]) this.wake(key)
  }
}
