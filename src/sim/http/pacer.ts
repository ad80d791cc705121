/**
 * Paces a sender at `rate` units per second from its first call: unit i is due at start + i/rate.
 * Computing from the start, rather than sleeping 1/rate between units, keeps the average exact
 * even though timers fire late. `rate` 0 means flat out: everything is due at once.
 */
export class Pacer {
  private start = 0

  constructor(readonly rate: number) {}

  get limited(): boolean {
    return this.rate > 0
  }

  /** How many units beyond the `done` ones are due now. */
  due(done: number): number {
    if (!this.limited) return Number.POSITIVE_INFINITY
    const now = performance.now()
    if (this.start === 0) this.start = now
    return Math.max(0, Math.floor(((now - this.start) * this.rate) / 1000) + 1 - done)
  }

  /** Milliseconds until unit `done + 1` is due. */
  msUntilNext(done: number): number {
    if (!this.limited) return 0
    return Math.max(0, this.start + (done * 1000) / this.rate - performance.now())
  }
}
