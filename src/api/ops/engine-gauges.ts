import type { EngineSnapshot } from '../../engine/thread/protocol.ts'
import type { ApiMetrics } from '../metrics.ts'

/** Events in the log not yet processed, per partition (never negative: `end` is read after `nextOffset`). */
export function partitionLag(p: EngineSnapshot['partitions'][number]): number {
  return Math.max(0, p.end - p.nextOffset)
}

/** Events in the log not yet processed, all partitions. */
export function totalLag(snapshot: EngineSnapshot): number {
  let lag = 0
  for (const p of snapshot.partitions) lag += partitionLag(p)
  return lag
}

/**
 * Copies the engine snapshot into the engine gauges, just before a scrape renders them.
 * Labelled gauges are reset first, so a deleted segment (or a partition no longer reported)
 * disappears from the output instead of repeating its last value forever.
 */
export function refreshEngineGauges(metrics: ApiMetrics, snapshot: EngineSnapshot): void {
  metrics.lag.reset()
  for (const p of snapshot.partitions) metrics.lag.set({ partition: String(p.partition) }, partitionLag(p))
  metrics.processed.set(snapshot.processed)
  if (snapshot.progress !== undefined) metrics.progress.set('engine', snapshot.progress)
  metrics.late.set(snapshot.late)
  metrics.lateDropped.set(snapshot.lateDropped)
  metrics.identityLinks.set({ result: 'linked' }, snapshot.identity?.linked ?? 0)
  metrics.identityLinks.set({ result: 'refused' }, snapshot.identity?.refused ?? 0)
  metrics.identityForwarded.set(snapshot.identity?.forwarded ?? 0)
  metrics.poisonRecords.set(snapshot.poisonRecords ?? 0)
  metrics.segmentChanges.set(snapshot.segmentChanges)
  metrics.notifications.set(snapshot.notifications)
  metrics.segmentSize.reset()
  for (const [segment, size] of Object.entries(snapshot.segmentSizes)) metrics.segmentSize.set({ segment }, size)
}
