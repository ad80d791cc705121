import { retentionCutoff, type PartitionOffsets, type RetentionPolicy, type RetentionResult } from '../event-log.ts'
import type { BatchSpan } from './records.ts'

/*
 * The broker applies retention.ms and retention.bytes on its own schedule, a whole segment at a time;
 * applyRetention(now) applies the policy at once and to the record batch, with DeleteRecords, by
 * whole days of append time as the embedded log does (retentionCutoff: the broker's own age limit
 * only ever removes records that are older still):
 * the partition's start offset moves to the first batch to keep. Age comes from the broker's index
 * (ListOffsets by timestamp; our topics stamp batches with their append time). Size needs the stored
 * batch sizes, which only a read of the partition gives: that read happens only for a partition whose
 * files (DescribeLogDirs) are over the limit, and for the records being deleted, to report their bytes.
 */

export interface RetentionOps {
  offsets(topic: string, partition: number): Promise<PartitionOffsets>
  /** First offset whose batch was appended at or after `timestamp`, or null when none was. */
  offsetForTime(topic: string, partition: number, timestamp: number): Promise<number | null>
  /** Bytes on disk per partition (an upper bound of the live bytes: deleted records linger in their segment). */
  diskBytes(topic: string): Promise<Map<number, number>>
  /** The batches holding offsets from .. to - 1. */
  scan(topic: string, partition: number, from: number, to: number): Promise<BatchSpan[]>
  deleteBefore(topic: string, partition: number, offset: number): Promise<void>
}

export async function applyRetention(ops: RetentionOps, topics: ReadonlyMap<string, number>, policy: RetentionPolicy, now: number): Promise<RetentionResult> {
  const result: RetentionResult = { deletedRecords: 0, deletedBytes: 0 }
  for (const [topic, partitions] of topics) {
    const disk = await ops.diskBytes(topic)
    for (let p = 0; p < partitions; p++) {
      const { start, end } = await ops.offsets(topic, p)
      if (start >= end) continue
      let cut = (await ops.offsetForTime(topic, p, retentionCutoff(now, policy.retentionMs))) ?? end
      let spans: BatchSpan[] | null = null
      if ((disk.get(p) ?? Infinity) > policy.retentionBytes) {
        spans = await ops.scan(topic, p, start, end)
        cut = Math.max(cut, sizeCut(spans, end, policy.retentionBytes))
      }
      if (cut <= start) continue
      spans ??= await ops.scan(topic, p, start, cut)
      await ops.deleteBefore(topic, p, cut)
      result.deletedRecords += cut - start
      for (const s of spans) if (s.last < cut) result.deletedBytes += s.bytes
    }
  }
  return result
}

/** First offset to keep so the newest batches fit in `limit` bytes (the end when even the last does not). */
export function sizeCut(spans: readonly BatchSpan[], end: number, limit: number): number {
  let kept = 0
  let cut = end
  for (let i = spans.length - 1; i >= 0; i--) {
    const s = spans[i]!
    if (kept + s.bytes > limit) break
    kept += s.bytes
    cut = s.first
  }
  return cut
}
