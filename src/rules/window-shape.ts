/** How a window of W ms is cut into ring buckets. */
export interface WindowShape {
  bucketMs: number
  /** Buckets in the window: the window at time T covers buckets (bucket(T) − buckets, bucket(T)]. */
  buckets: number
}

/**
 * The largest whole bucket that divides the window exactly and gives at least `bucketsPerWindow`
 * buckets, so every window covers exactly its own length of bucket boundaries (a rounded bucket
 * made `10s` behave as 10,043 ms). Windows are whole seconds, so W/125 always qualifies: the
 * search runs over at most W/3000 candidates, once per rule.
 */
export function windowShape(windowMs: number, bucketsPerWindow: number): WindowShape {
  const w = Math.max(1, Math.round(windowMs))
  let bucketMs = 1
  for (let d = Math.floor(w / bucketsPerWindow); d > 1; d--) {
    if (w % d === 0) {
      bucketMs = d
      break
    }
  }
  return { bucketMs, buckets: w / bucketMs }
}
