import type { TrackedEvent } from '../events/envelope.ts'
import { MinHeap } from './min-heap.ts'

/** An event waiting for the watermark, with its position in the partition's log (or replay order). */
export interface HeldEvent {
  event: TrackedEvent
  pos: number
}

/**
 * Events ahead of the watermark (allowed lateness > 0), released in (event time, log position)
 * order once the watermark reaches them: within the lateness, arrival order changes nothing.
 * With no lateness it stays empty.
 */
export class HeldEvents extends MinHeap<HeldEvent> {
  constructor() {
    super((a, b) => a.event.ts < b.event.ts || (a.event.ts === b.event.ts && a.pos < b.pos))
  }

  /**
   * Events held so far, ever (a count that only grows): a replay writes a batch's memory again once
   * it is applied unless one of its events was held, since a held event reads its properties from
   * that memory when it is applied (src/engine/replay/).
   */
  pushed = 0

  override push(h: HeldEvent): void {
    this.pushed++
    super.push(h)
  }

  /** The smallest log position held: a checkpoint re-reads the log from there (null if none). */
  minPos(): number | null {
    let min: number | null = null
    for (const h of this.values()) if (min === null || h.pos < min) min = h.pos
    return min
  }
}
