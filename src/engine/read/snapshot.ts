import type { RulesDefinition } from '../../rules/index.ts'
import type { EngineStats } from '../records.ts'
import type { EngineSnapshot } from '../thread/protocol.ts'
import type { IdentityStats } from '../identity-links.ts'

/** One partition as a snapshot sums it, from the live engine or from its last checkpoint. */
export interface PartitionReading {
  partition: number
  nextOffset: number
  /** End of the partition's events log. */
  end: number
  /** The partition's clock; −Infinity before any event. */
  watermark: number
  /** Poison counts are known to the live engine only (checkpoints do not carry them). */
  stats: Pick<EngineStats, 'processed' | 'late' | 'lateDropped' | 'segmentChanges' | 'notifications'> & { poison?: number }
  users: number
  /** Identity links made and refused, and events forwarded to a person's partition (docs/identity.md). */
  identity: IdentityStats
  /** Members per tenant and segment. */
  sizes: ReadonlyMap<string, ReadonlyMap<string, number>>
}

/** The totals /metrics, /readyz and backpressure read, summed over the partitions. */
export function buildSnapshot(partitions: readonly PartitionReading[], definition: RulesDefinition, error: string | null): EngineSnapshot {
  const totals = { processed: 0, late: 0, lateDropped: 0, segmentChanges: 0, notifications: 0, users: 0 }
  let poison: number | undefined
  const identity: IdentityStats = { linked: 0, refused: 0, forwarded: 0 }
  const segmentSizes: Record<string, number> = {}
  for (const s of definition.segments) segmentSizes[s.name] = 0
  for (const p of partitions) {
    totals.processed += p.stats.processed
    totals.late += p.stats.late
    totals.lateDropped += p.stats.lateDropped
    totals.segmentChanges += p.stats.segmentChanges
    totals.notifications += p.stats.notifications
    if (p.stats.poison !== undefined) poison = (poison ?? 0) + p.stats.poison
    totals.users += p.users
    identity.linked += p.identity.linked
    identity.refused += p.identity.refused
    identity.forwarded += p.identity.forwarded
    for (const sizes of p.sizes.values()) for (const [name, n] of sizes) if (name in segmentSizes) segmentSizes[name] = segmentSizes[name]! + n
  }
  const snapshot: EngineSnapshot = {
    ready: true,
    partitions: partitions.map((p) => ({ partition: p.partition, nextOffset: p.nextOffset, end: p.end, watermark: Number.isFinite(p.watermark) ? p.watermark : null })),
    segmentSizes,
    error,
    identity,
    ...totals,
  }
  if (poison !== undefined) snapshot.poisonRecords = poison
  return snapshot
}
