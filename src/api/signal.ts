/** Listeners told that something happened, with nothing to say beyond that (no payload, no ordering promise). */
export class Signal {
  private readonly listeners = new Set<() => void>()

  /** Calls `listener` at every emit() until the returned function is called. */
  on(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  emit(): void {
    for (const listener of this.listeners) listener()
  }
}
