import { CODEC } from '../../events/codec.ts'
import { decodeEraseRecord, encodeEraseRecord } from '../../events/erase-record.ts'
import { TOPICS, type EventLog } from '../../log/event-log.ts'
import { recordsInRange } from '../../log/read-range.ts'
import type { ErasureJob } from '../../state/state-store.ts'

/*
 * An erasure job's records in the events log (docs/privacy.md): one per partition. A server that
 * died between storing the job and appending all of them looks for each from the job's `from`
 * offsets before appending: a record found is not appended again. Two servers may still both append
 * one to a partition; the engine applies a job's first record there and ignores the second
 * (src/engine/partition-erasures.ts), so the offsets kept are always the first ones found.
 */

/** The log's end per events partition: where a job's records will be. */
export async function logEnds(log: EventLog, partitions: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (let p = 0; p < partitions; p++) out[String(p)] = (await log.offsets(TOPICS.events, p)).end
  return out
}

/** The offset of the job's first erase record in partition p at or after `from`, or null. */
export async function findEraseRecord(log: EventLog, job: ErasureJob, p: number): Promise<number | null> {
  const from = job.from[String(p)] ?? 0
  const end = (await log.offsets(TOPICS.events, p)).end
  for await (const r of recordsInRange(log, TOPICS.events, p, from, end)) {
    const b = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength)
    if (b.length === 0 || b[0] !== CODEC.ERASE) continue
    const d = decodeEraseRecord(b, 0, b.length)
    if ('job' in d && d.job === job.id) return r.offset
  }
  return null
}

/**
 * Every partition's record of the job, appended where none is found: the offsets by partition.
 * `fresh` (the job was just stored by this very request): nothing can be there yet, so no scan.
 */
export async function appendEraseRecords(log: EventLog, partitions: number, job: ErasureJob, fresh: boolean): Promise<Record<string, number>> {
  const value = encodeEraseRecord({ tenant: job.tenant, ids: job.ids, job: job.id })
  const offsets: Record<string, number> = { ...job.offsets }
  for (let p = 0; p < partitions; p++) {
    if (offsets[String(p)] !== undefined) continue
    const found = fresh ? null : await findEraseRecord(log, job, p)
    if (found !== null) {
      offsets[String(p)] = found
      continue
    }
    const appended = await log.append(TOPICS.events, p, [{ key: `${job.tenant}:${job.ids[0]!}`, value, timestamp: Date.now() }])
    offsets[String(p)] = appended.baseOffset
  }
  return offsets
}
