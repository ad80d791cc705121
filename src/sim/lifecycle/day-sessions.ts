import { argsortU32 } from '../radix-sort.ts'

/**
 * The sessions of one day (start, player), before any is played. Playing them in order of start
 * makes the day's events come out nearly in time order, so the writer reads them almost
 * sequentially: played player by player, reading in time order jumped around a 32 MB day for
 * every event (the writer took twice as long). A player's sessions never overlap, so playing by
 * start still plays each player's sessions in order.
 */
export class DaySessions {
  count = 0
  start = new Uint32Array(1024)
  player = new Uint32Array(1024)

  reset(): void {
    this.count = 0
  }

  push(start: number, player: number): void {
    if (this.count === this.start.length) {
      const start = new Uint32Array(this.start.length * 2)
      start.set(this.start)
      const player = new Uint32Array(this.player.length * 2)
      player.set(this.player)
      this.start = start
      this.player = player
    }
    this.start[this.count] = start
    this.player[this.count++] = player
  }

  /** Indices by start, ties in the order pushed. */
  byStart(): Uint32Array {
    return argsortU32(this.start.subarray(0, this.count))
  }
}
