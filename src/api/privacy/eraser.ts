import { createHash } from 'node:crypto'
import type { AppliedErase } from '../../engine/partition-erasures.ts'
import { DEFAULT_WORKER_OPTIONS } from '../../engine/partition-worker.ts'
import { TOPICS, type EventLog } from '../../log/event-log.ts'
import type { Logger } from '../../logger.ts'
import type { ErasureJob, StateStore } from '../../state/state-store.ts'
import type { ApiMetrics } from '../metrics.ts'
import { STREAM_DIRS } from '../../warehouse/layout.ts'
import type { EraseRowsResult, WarehouseErase } from '../../warehouse/sink/erase-rows.ts'
import { appendEraseRecords } from './erase-log.ts'

/** The warehouse sink's consumer groups: the events', and each output stream's (src/warehouse/sink/topics.ts). */
const EVENTS_GROUP = 'warehouse'
const STREAM_TOPICS: Record<(typeof STREAM_DIRS)[number], { topic: string; group: string }> = {
  'segment-changes': { topic: TOPICS.segmentChanges, group: 'warehouse-segment-changes' },
  notifications: { topic: TOPICS.notifications, group: 'warehouse-notifications' },
  identities: { topic: TOPICS.identities, group: 'warehouse-identities' },
}

export interface EraserOptions {
  /** How often unfinished jobs move on. Default 250 ms. */
  tickMs: number
  /** How often done jobs are checked for a lapsed tombstone. Default 60 s. */
  tombstoneCheckMs: number
  /** A job left `accepted` this long by the server that stored it (it died) is taken over. Default 30 s. */
  takeOverMs: number
  /** Checkpoint namespace of the engine. Default "engine". */
  namespace: string
}

export const DEFAULT_ERASER_OPTIONS: EraserOptions = { tickMs: 250, tombstoneCheckMs: 60_000, takeOverMs: 30_000, namespace: DEFAULT_WORKER_OPTIONS.namespace }

/**
 * Moves erasure jobs on (docs/privacy.md, "Erase"). Every server runs one; each step is idempotent
 * and derived from what the log, the checkpoints and the warehouse's committed offsets say, so two
 * servers working on one job, or one restarted after a SIGKILL mid-step, finish it the same way:
 * 1. the erase records appended to every partition (done by the request; taken over if it died);
 * 2. the engine: every partition checkpointed past its record (it erased the person there);
 * 3. the warehouse: once the sink holds everything below the records (events) and below the
 *    engine's output ends at the erase (output streams), its files are rewritten without the rows,
 *    by the server whose sink writes them;
 * 4. done; the tombstone (the records themselves) lapses once log retention has dropped every
 *    partition's events before its record, and the job's ids and audit subjects become hashes.
 */
export class Eraser {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private lastTombstoneCheck = 0
  private stopped = false
  /** Jobs whose last step failed: how often in a row, and when to try again. */
  private readonly failures = new Map<string, { count: number; retryAt: number }>()

  constructor(
    private readonly log: EventLog,
    private readonly store: StateStore,
    private readonly partitions: number,
    /** This server's warehouse sink, or null (`--no-warehouse`, or a collector without it). */
    private readonly warehouse: { erase(e: WarehouseErase): Promise<EraseRowsResult> } | null,
    private readonly logger: Logger,
    readonly options: EraserOptions = DEFAULT_ERASER_OPTIONS,
    private readonly metrics: Pick<ApiMetrics, 'erasureJobs' | 'erasureStepFailures'> | null = null,
  ) {}

  start(): void {
    const loop = (): void => {
      if (this.stopped) return
      this.running = this.tick()
        .catch((err: unknown) => this.logger.warn({ err }, 'erasure jobs: a step failed; retried next tick'))
        .finally(() => {
          this.running = null
          if (!this.stopped) this.timer = setTimeout(loop, this.options.tickMs)
        })
    }
    this.timer = setTimeout(loop, 0)
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    await this.running
  }

  /** One pass over the unfinished jobs (and, now and then, the done ones' tombstones). */
  async tick(): Promise<void> {
    const jobs = await this.store.privacy.listErasures({ tenant: null, active: true, limit: 1_000 })
    if (this.metrics !== null) {
      for (const status of ['accepted', 'erasing'] as const) this.metrics.erasureJobs.set({ status }, jobs.filter((j) => j.status === status).length)
      this.metrics.erasureJobs.set({ status: 'tombstone' }, jobs.filter((j) => j.status === 'done' && j.tombstone).length)
    }
    const checkTombstones = Date.now() - this.lastTombstoneCheck >= this.options.tombstoneCheckMs
    if (checkTombstones) this.lastTombstoneCheck = Date.now()
    for (const job of jobs) {
      if (job.status === 'done') {
        if (checkTombstones && job.tombstone) await this.lapse(job)
        continue
      }
      const wait = this.failures.get(job.id)
      if (wait !== undefined && Date.now() < wait.retryAt) continue
      try {
        await this.advance(job)
        if (wait !== undefined) {
          this.failures.delete(job.id)
          const now = await this.store.privacy.getErasure(job.id)
          if (now !== null && now.error !== null) await this.store.privacy.updateErasure({ ...now, error: null })
        }
      } catch (err) {
        // A step that fails (a full disk under the warehouse, the log unreachable) is retried with
        // a growing pause, and the job shows why meanwhile; nothing of it is lost or half-applied.
        this.metrics?.erasureStepFailures.inc()
        const count = (wait?.count ?? 0) + 1
        this.failures.set(job.id, { count, retryAt: Date.now() + Math.min(30_000, 1_000 * 2 ** (count - 1)) })
        const message = err instanceof Error ? err.message : String(err)
        this.logger.warn({ err, job: job.id, failures: count }, 'erasure job: a step failed; retried after a pause')
        const now = await this.store.privacy.getErasure(job.id).catch(() => null)
        if (now !== null) await this.store.privacy.updateErasure({ ...now, error: message }).catch(() => undefined)
      }
    }
  }

  /** Steps 1–3 of one job, as far as they go now. */
  private async advance(job: ErasureJob): Promise<void> {
    let j = job
    if (j.status === 'accepted') {
      if (Date.now() - j.requestedAt < this.options.takeOverMs) return
      j = await this.save({ ...j, offsets: await appendEraseRecords(this.log, this.partitions, j, false), status: 'erasing' })
      this.logger.info({ job: j.id }, 'erasure job taken over: erase records appended')
    }
    const applied = await this.appliedErases(j)
    if (!j.engine) {
      if (applied === null) return
      j = await this.save({ ...j, engine: true })
    }
    if (!j.warehouse && applied !== null) {
      const erase = await this.warehouseErase(j, applied)
      if (erase === 'not here' || erase === 'behind') return
      if (erase !== 'none') {
        const done = await this.warehouse!.erase(erase)
        this.logger.info({ job: j.id, ...done }, 'erasure job: warehouse rewritten')
      }
      j = await this.save({ ...j, warehouse: true })
    }
    if (j.engine && j.warehouse) {
      if (!(await this.eraseInbox(j, applied))) return
      await this.save({ ...j, status: 'done', finishedAt: Date.now() })
      this.logger.info({ job: j.id, tenant: j.tenant, ms: Date.now() - j.requestedAt }, 'erasure job done')
    }
  }

  /**
   * The person's inbox messages (docs/streams.md, "Player notifications"), once the inbox has taken
   * in every player notification the engine made before the erase (the erase's output ends), so no
   * earlier one arrives after. Idempotent; false while the inbox is behind.
   */
  private async eraseInbox(job: ErasureJob, applied: Map<number, AppliedErase> | null): Promise<boolean> {
    if (applied === null) return false
    for (const [p, a] of applied) if ((await this.store.inbox.position(p)) < (a.outputs[TOPICS.playerNotifications] ?? 0)) return false
    const removed = await this.store.inbox.erase(job.tenant, job.ids)
    if (removed > 0) this.logger.info({ job: job.id, removed }, 'erasure job: inbox messages removed')
    return true
  }

  /** Each partition's applied erase of the job, once every partition's checkpoint is past its record; else null. */
  private async appliedErases(job: ErasureJob): Promise<Map<number, AppliedErase> | null> {
    const out = new Map<number, AppliedErase>()
    for (let p = 0; p < this.partitions; p++) {
      const at = job.offsets[String(p)]
      const ckpt = await this.store.loadCheckpoint(this.options.namespace, p)
      if (at === undefined || ckpt === null || ckpt.nextOffset <= at) return null
      const list = (ckpt.engine as { erasures?: AppliedErase[] }).erasures ?? []
      const mine = list.find((e) => e.job === job.id)
      // Checkpointed past the record with no trace of it: more than 256 erases since (the list's cap).
      out.set(p, mine ?? { job: job.id, tenant: job.tenant, ids: job.ids, offset: at, at: 0, outputs: {} })
    }
    return out
  }

  /**
   * What the warehouse must remove, once its sink holds every row below the cuts: 'not here' when
   * this server does not write the warehouse and another one does (its eraser does it), 'none' when
   * no warehouse is written at all, 'behind' while the sink has not caught up.
   */
  private async warehouseErase(job: ErasureJob, applied: Map<number, AppliedErase>): Promise<WarehouseErase | 'not here' | 'none' | 'behind'> {
    const erase: WarehouseErase = { tenant: job.tenant, ids: job.ids, events: {}, streams: {} }
    let anyCommitted = false
    for (const [p, a] of applied) {
      erase.events[String(p)] = a.offset
      const committed = await this.log.committed(EVENTS_GROUP, TOPICS.events, p)
      if (committed !== null) anyCommitted = true
      if (this.warehouse !== null && (committed ?? 0) < a.offset) return 'behind'
      for (const dir of STREAM_DIRS) {
        const { topic, group } = STREAM_TOPICS[dir]
        const cut = a.outputs[topic]
        if (cut === undefined) continue
        ;(erase.streams[dir] ??= {})[String(p)] = cut
        if (this.warehouse !== null && ((await this.log.committed(group, topic, p)) ?? 0) < cut) return 'behind'
      }
    }
    if (this.warehouse === null) return anyCommitted ? 'not here' : 'none'
    return erase
  }

  /** Hashes a done job's ids once retention has dropped every event its records erased. */
  private async lapse(job: ErasureJob): Promise<void> {
    for (let p = 0; p < this.partitions; p++) {
      const at = job.offsets[String(p)]
      if (at !== undefined && (await this.log.offsets(TOPICS.events, p)).start <= at) return
    }
    const hashed = job.ids.map((id) => hashId(job.tenant, id))
    for (const [i, id] of job.ids.entries()) await this.store.privacy.renameAuditSubject(job.tenant, id, hashed[i]!)
    await this.save({ ...job, ids: hashed, tombstone: false })
    this.logger.info({ job: job.id }, 'erasure tombstone lapsed: retention dropped the erased events; ids kept as hashes')
  }

  /**
   * Stores a job's new version, merged with what is stored now: another server may have moved it
   * meanwhile, and a step once done stays done.
   */
  private async save(next: ErasureJob): Promise<ErasureJob> {
    const now = await this.store.privacy.getErasure(next.id)
    const merged: ErasureJob =
      now === null
        ? next
        : {
            ...next,
            engine: next.engine || now.engine,
            warehouse: next.warehouse || now.warehouse,
            status: rank(now.status) > rank(next.status) ? now.status : next.status,
            offsets: { ...next.offsets, ...now.offsets },
            finishedAt: now.finishedAt ?? next.finishedAt,
          }
    await this.store.privacy.updateErasure(merged)
    return merged
  }
}

function rank(s: ErasureJob['status']): number {
  return s === 'accepted' ? 0 : s === 'erasing' ? 1 : 2
}

/** What a lapsed tombstone keeps of an id: `sha256:` and its hash with the tenant. */
export function hashId(tenant: string, id: string): string {
  return `sha256:${createHash('sha256').update(`${tenant}\u0000${id}`).digest('hex')}`
}
