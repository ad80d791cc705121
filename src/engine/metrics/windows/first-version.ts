import type { WindowShape } from '../../../rules/window-shape.ts'
import { toMicros } from '../exact-sum.ts'
import type { StoredWindow } from './window-snapshot.ts'

/** The one window shape whose buckets were the same before: 120 buckets dividing the window exactly. */
const LEGACY_BUCKETS = 120

/**
 * A checkpoint from before the exact windows (snapshot version 1): a ring of n + ahead slots holding
 * buckets (head − size, head] and sums as floats. Rewritten as version-2 fields (n slots, sums in
 * millionths) for the aggregate's own restore. Only a default-shaped window (a multiple of 120 ms at
 * 120 buckets) had the same buckets then; every other shape starts empty after the upgrade (null; see
 * docs/engine.md, "Checkpoints from older versions").
 */
export function firstVersionFields(s: StoredWindow, clock: number, shape: WindowShape): StoredWindow | null {
  const n = shape.buckets
  if (n !== LEGACY_BUCKETS) return null
  const arrays = [s.counts, s.sums, s.ext].filter((a): a is unknown[] => Array.isArray(a))
  const size = arrays[0]?.length ?? n + 1
  if (arrays.some((a) => a.length !== size) || size < n) return null
  const head = typeof s.head === 'number' ? s.head : clock
  const counts = Array.isArray(s.counts) ? new Array<unknown>(n).fill(0) : null
  const sums = Array.isArray(s.sums) ? new Array<unknown>(n).fill(0) : null
  const ext = Array.isArray(s.ext) ? new Array<unknown>(n).fill(null) : null
  // Buckets ahead of the clock (events that waited for the watermark) are not carried over.
  for (let k = Math.max(clock - n + 1, head - size + 1); k <= Math.min(clock, head); k++) {
    const from = k % size
    const to = k % n
    if (counts && Array.isArray(s.counts)) counts[to] = s.counts[from]
    if (sums && Array.isArray(s.sums)) {
      const v: unknown = s.sums[from]
      sums[to] = typeof v === 'number' ? toMicros(v) : v
    }
    if (ext && Array.isArray(s.ext)) ext[to] = s.ext[from] ?? null
  }
  const distinct = Array.isArray(s.distinct) ? s.distinct.filter((e: unknown) => Array.isArray(e) && typeof e[1] === 'number' && e[1] <= clock) : s.distinct
  return { counts, sums, ext, distinct, neg: s.neg }
}
