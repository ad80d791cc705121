import { isEngineRecord } from '../../events/clock-record.ts'
import { partitionOfUser } from '../../events/partition.ts'
import { uuid7 } from '../../events/uuid7.ts'
import { decodeEngineRecord } from '../../engine/engine-record.ts'
import { DEFAULT_WORKER_OPTIONS } from '../../engine/partition-worker.ts'
import { TOPICS } from '../../log/event-log.ts'
import { recordsInRange } from '../../log/read-range.ts'
import type { ErasureJob } from '../../state/state-store.ts'
import type { ApiContext } from '../context.ts'
import { appendEraseRecords, logEnds } from './erase-log.ts'
import { personIds } from './person-data.ts'

export type EraseRequest = { job: ErasureJob; existing: boolean } | { unknown: true } | { busy: number }

/**
 * Erasures of one tenant not done yet, at most: each appends a record to every partition and is
 * worked on by every server until done, so one tenant's flood of DELETEs must not hold up the
 * others' (nor push their jobs past the runner's 1,000 per pass).
 */
export const MAX_UNFINISHED_ERASURES = 100
/**
 * Records read, at most, looking for an unread event of an id with no profile (the engine's lag in
 * its partition): beyond, the id is unknown. A DELETE of made-up ids must not read the whole log.
 */
export const MAX_UNREAD_SCAN = 100_000

/**
 * DELETE /v1/profiles/:id (docs/privacy.md, "Erase"): the person's ids, a job stored and audited,
 * then its records appended to every partition of the events log. Events appended to a partition
 * before its record are the erased person's; after it they start a new profile of the same id.
 * A person with an erase under way gets that job back rather than a second one.
 */
export async function requestErase(ctx: ApiContext, tenant: string, userId: string, by: string): Promise<EraseRequest> {
  const ids = await idsToErase(ctx, tenant, userId)
  if (ids === null) return { unknown: true }
  const unfinished = (await ctx.state.privacy.listErasures({ tenant, active: true, limit: 1_000 })).filter((j) => j.status !== 'done')
  const under = unfinished.find((j) => ids.some((id) => j.ids.includes(id)))
  if (under !== undefined) return { job: under, existing: true }
  if (unfinished.length >= MAX_UNFINISHED_ERASURES) return { busy: unfinished.length }
  const job = newErasureJob(tenant, ids, by, await logEnds(ctx.log, ctx.partitions))
  await ctx.state.privacy.addErasure(job)
  await ctx.state.privacy.addAudit({ at: job.requestedAt, tenant, action: 'erase', subject: userId, by, job: job.id })
  const erasing: ErasureJob = { ...job, offsets: await appendEraseRecords(ctx.log, ctx.partitions, job, true), status: 'erasing' }
  await ctx.state.privacy.updateErasure(erasing)
  ctx.logger.info({ job: job.id, tenant, ids: ids.length, by }, 'erasure requested')
  return { job: erasing, existing: false }
}

/** A job just asked for: stored as `accepted` before its records are appended from `from`. */
export function newErasureJob(tenant: string, ids: string[], by: string, from: Record<string, number>, requestedAt = Date.now()): ErasureJob {
  return {
    id: `era_${uuid7(requestedAt).replaceAll('-', '')}`,
    tenant,
    ids,
    by,
    requestedAt,
    status: 'accepted',
    from,
    offsets: {},
    engine: false,
    warehouse: false,
    tombstone: true,
    finishedAt: null,
    error: null,
  }
}

/**
 * The id asked for, then the person it belongs to and that person's linked ids (the live profile
 * follows an absorbed id to its person). With no profile, the id alone when the engine has yet to
 * read an event of it (in its partition past the engine's checkpoint); null when nothing is known.
 */
async function idsToErase(ctx: ApiContext, tenant: string, userId: string): Promise<string[] | null> {
  const json = await ctx.engine.profileJson(tenant, userId)
  if (json !== null) return personIds(userId, json)
  const p = partitionOfUser(tenant, userId, ctx.partitions)
  const from = (await ctx.state.loadCheckpoint(DEFAULT_WORKER_OPTIONS.namespace, p))?.nextOffset ?? 0
  const end = Math.min((await ctx.log.offsets(TOPICS.events, p)).end, from + MAX_UNREAD_SCAN)
  for await (const r of recordsInRange(ctx.log, TOPICS.events, p, from, end)) {
    const b = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength)
    // Events in either format (and other producers' JSON), decoded as the engine decodes them.
    if (b.length === 0 || isEngineRecord(b)) continue
    const d = decodeEngineRecord(b, 0, b.length, p, r.offset, r.timestamp)
    if (d.kind !== 'event') continue
    const e = d.event
    if (e.tenant === tenant && (e.user_id === userId || e.anonymous_id === userId)) return [userId]
  }
  return null
}
