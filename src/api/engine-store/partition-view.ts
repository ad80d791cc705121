import { tenantOfKey } from '../../engine/restore-rules.ts'
import type { RuleBook } from '../../engine/tenant-rules.ts'
import { SegmentSizes } from '../../engine/segment-sizes.ts'
import { decodeUser } from '../../engine/user-snapshot.ts'
import type { PartitionCheckpoint, StateStore } from '../../state/state-store.ts'

/** What the last scan of one partition's users counted: members per tenant and segment, and users. */
export interface PartitionCounts {
  sizes: Map<string, Map<string, number>>
  users: number
}

/** One partition as a collector sees it: the workers' last checkpoint, the log's end, the last count. */
export interface PartitionView {
  partition: number
  checkpoint: PartitionCheckpoint | null
  /** End of the events log partition when the checkpoint was read. */
  end: number
  counts: PartitionCounts
  /** The checkpoint (as JSON) the counts were taken at; null before the first scan. */
  countedAt: string | null
  /** Date.now() of the last scan. */
  countedTime: number
  /** The rules each tenant runs in this partition as of the checkpoint (docs/tenancy.md). */
  book: RuleBook
  /** The checkpoint's rule set versions (as JSON) the book holds. */
  bookAt: string
}

export function emptyView(partition: number, base: RuleBook): PartitionView {
  return { partition, checkpoint: null, end: 0, counts: { sizes: new Map(), users: 0 }, countedAt: null, countedTime: 0, book: base, bookAt: '{}' }
}

/** The engine clock a checkpoint carries (see PartitionWorker.checkpoint); -Infinity before any event, as in the engine. */
export function checkpointWatermark(ckpt: PartitionCheckpoint | null): number {
  const w = (ckpt?.engine as { watermark?: number | null } | undefined)?.watermark
  return typeof w === 'number' ? w : -Infinity
}

export function checkpointStats(ckpt: PartitionCheckpoint | null): Record<'processed' | 'late' | 'lateDropped' | 'segmentChanges' | 'notifications', number> {
  const engine = ckpt?.engine as { stats?: unknown } | undefined
  return counters(engine?.stats, ['processed', 'late', 'lateDropped', 'segmentChanges', 'notifications'])
}

/** The identity counters a checkpoint carries (docs/identity.md); zero in one written before them. */
export function checkpointIdentity(ckpt: PartitionCheckpoint | null): Record<'linked' | 'refused' | 'forwarded', number> {
  const engine = ckpt?.engine as { identity?: { stats?: unknown } } | undefined
  return counters(engine?.identity?.stats, ['linked', 'refused', 'forwarded'])
}

/** The named counters of a checkpoint's JSON, 0 where one is missing or not a number (an older or damaged checkpoint). */
function counters<K extends string>(from: unknown, keys: readonly K[]): Record<K, number> {
  const o = (typeof from === 'object' && from !== null ? from : {}) as Record<string, unknown>
  const out = {} as Record<K, number>
  for (const k of keys) out[k] = typeof o[k] === 'number' ? o[k] : 0
  return out
}

/** Decodes every user of the partition once: O(users) reads and decodes, which is why it is cached. */
export async function countPartition(store: StateStore, namespace: string, partition: number, book: RuleBook): Promise<PartitionCounts> {
  const sizes = new SegmentSizes()
  let users = 0
  for await (const rec of store.loadUsers(namespace, partition)) {
    if (!rec.state) continue
    const rules = book.of(tenantOfKey(rec.key))
    const u = decodeUser(rec.state, rules)
    // An absorbed id's redirect row (identity merges) is not a user.
    if (u.redirectTo !== null) continue
    users++
    const segments = rules.compiled.segments
    for (let i = 0; i < segments.length; i++) if (u.isMember(i)) sizes.bump(u.tenant, segments[i]!.name, 1)
  }
  return { sizes, users }
}
