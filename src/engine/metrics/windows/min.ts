import { ExtremeWindow } from './extreme.ts'
import type { StoredWindow } from './window-snapshot.ts'

/** min(e.f, w): the smallest numeric value in the window. */
export class MinWindow extends ExtremeWindow {
  get agg(): 'min' {
    return 'min'
  }

  protected better(a: number, b: number): boolean {
    return a < b
  }

  static restore(s: StoredWindow, buckets: number): MinWindow | null {
    const w = new MinWindow(buckets)
    return w.restoreSlots(s) ? w : null
  }
}
