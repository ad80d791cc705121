import { ExtremeWindow } from './extreme.ts'
import type { StoredWindow } from './window-snapshot.ts'

/** max(e.f, w): the largest numeric value in the window. */
export class MaxWindow extends ExtremeWindow {
  get agg(): 'max' {
    return 'max'
  }

  protected better(a: number, b: number): boolean {
    return a > b
  }

  static restore(s: StoredWindow, buckets: number): MaxWindow | null {
    const w = new MaxWindow(buckets)
    return w.restoreSlots(s) ? w : null
  }
}
