import type { EngineOptions } from '../../engine/engine-options.ts'
import type { EngineRules } from '../../engine/engine-rules.ts'
import { DEFAULT_WORKER_OPTIONS } from '../../engine/partition-worker.ts'
import { buildProfile, matchesTraits, readTime } from '../../engine/profile.ts'
import { compareIds } from '../../engine/id-order.ts'
import { formatDuration } from '../../rules/index.ts'
import type { EngineClient, EngineSnapshot, Profile, ProfilePage, ProfileQuery, SegmentInfo } from '../../engine/thread/protocol.ts'
import { decodeUser } from '../../engine/user-snapshot.ts'
import type { UserState } from '../../engine/user-state.ts'
import { partitionKey, partitionOfUser } from '../../events/partition.ts'
import { TOPICS, type EventLog } from '../../log/event-log.ts'
import type { Logger } from '../../logger.ts'
import type { StateStore } from '../../state/state-store.ts'
import { checkpointStats, checkpointWatermark, countPartition, emptyView, type PartitionView } from './partition-view.ts'
import { SegmentsReadOnlyError } from './read-only.ts'

export interface StoreEngineOptions {
  /** Checkpoint namespace the workers write. Default "engine" (DEFAULT_WORKER_OPTIONS). */
  namespace: string
  /** How often checkpoints and log ends are re-read for the snapshot. Default 1 s. */
  refreshMs: number
  /** Least time between two scans of a partition's users for segment sizes. Default 5 s. */
  countIntervalMs: number
  /** The workers' clocks follow the wall clock (clock records on): profiles are read as of now. Default true. */
  followsWallClock: boolean
}

export const DEFAULT_STORE_ENGINE_OPTIONS: StoreEngineOptions = { namespace: DEFAULT_WORKER_OPTIONS.namespace, refreshMs: 1_000, countIntervalMs: 5_000, followsWallClock: true }

const STARTING: EngineSnapshot = { ready: false, partitions: [], processed: 0, late: 0, lateDropped: 0, segmentChanges: 0, notifications: 0, segmentSizes: {}, users: 0, error: null }

/**
 * The engine as a collector (`serve --no-engine`) sees it: read from the state store the workers
 * checkpoint to, so every answer is as of the workers' last checkpoint (behind the live engine by at
 * most their checkpoint interval). Profiles are one key read; sizes come from a scan of each
 * partition's users, redone only when its checkpoint changed; search and members scan on demand.
 */
export class StoreEngineClient implements EngineClient {
  private readonly views: PartitionView[]
  private latest: EngineSnapshot = STARTING
  private timer: NodeJS.Timeout | null = null
  private refreshing: Promise<void> | null = null
  private closed = false
  private failing = false

  private constructor(
    private readonly log: EventLog,
    private readonly store: StateStore,
    private readonly partitions: number,
    private readonly rules: EngineRules,
    private readonly engineOptions: EngineOptions,
    private readonly options: StoreEngineOptions,
    private readonly logger: Logger,
  ) {
    this.views = Array.from({ length: partitions }, (_, p) => emptyView(p))
  }

  /** Reads every checkpoint and counts every partition once before answering, then keeps refreshing. */
  static async start(
    c: { log: EventLog; store: StateStore; partitions: number; rules: EngineRules; engine: EngineOptions; logger: Logger },
    options: Partial<StoreEngineOptions> = {},
  ): Promise<StoreEngineClient> {
    const client = new StoreEngineClient(c.log, c.store, c.partitions, c.rules, c.engine, { ...DEFAULT_STORE_ENGINE_OPTIONS, ...options }, c.logger)
    await client.refresh()
    client.schedule()
    return client
  }

  snapshot(): EngineSnapshot {
    return this.latest
  }

  async profile(tenant: string, userId: string): Promise<Profile | null> {
    const p = partitionOfUser(tenant, userId, this.partitions)
    const bytes = await this.store.getUser(this.options.namespace, p, partitionKey(tenant, userId))
    if (!bytes) return null
    // Read after the user: that checkpoint is the one that wrote this state or a later one, so its clock is not behind the state.
    const T = readTime(checkpointWatermark(await this.store.loadCheckpoint(this.options.namespace, p)), this.engineOptions, this.options.followsWallClock)
    return buildProfile(decodeUser(bytes, this.rules), this.rules, this.engineOptions, T)
  }

  async searchProfiles(q: ProfileQuery): Promise<ProfilePage> {
    const segment = q.segment === undefined ? -1 : this.segmentIndex(q.segment)
    if (segment === null) return { profiles: [], next: null }
    const found: Array<{ u: UserState; T: number }> = []
    await this.scan(q.tenant, (u, T) => {
      if (q.cursor !== undefined && compareIds(u.userId, q.cursor) <= 0) return
      if (segment >= 0 && !u.isMember(segment)) return
      if (matchesTraits(u, q.where, this.engineOptions, T)) found.push({ u, T })
    })
    found.sort((a, b) => compareIds(a.u.userId, b.u.userId))
    const page = found.slice(0, q.limit)
    return {
      profiles: page.map(({ u, T }) => buildProfile(u, this.rules, this.engineOptions, T)),
      next: found.length > q.limit ? page[page.length - 1]!.u.userId : null,
    }
  }

  async members(tenant: string, name: string, limit: number, cursor?: string): Promise<{ members: Array<{ user_id: string; since: number }>; next: string | null } | null> {
    const segment = this.segmentIndex(name)
    if (segment === null) return null
    const found: Array<{ user_id: string; since: number }> = []
    await this.scan(tenant, (u) => {
      if (!u.isMember(segment) || (cursor !== undefined && compareIds(u.userId, cursor) <= 0)) return
      found.push({ user_id: u.userId, since: u.since[segment]! })
    })
    found.sort((a, b) => compareIds(a.user_id, b.user_id))
    const page = found.slice(0, limit)
    return { members: page, next: found.length > limit ? page[page.length - 1]!.user_id : null }
  }

  async segments(tenant: string): Promise<SegmentInfo[]> {
    return this.rules.definition.segments.map((s) => {
      let size = 0
      for (const v of this.views) size += v.counts.sizes.get(tenant)?.get(s.name) ?? 0
      return { name: s.name, when: s.text, keep: s.keepMs > 0 ? formatDuration(s.keepMs) : null, description: s.description ?? null, size }
    })
  }

  putSegment(name: string): Promise<SegmentInfo> {
    return Promise.reject(new SegmentsReadOnlyError(name))
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.refreshing
  }

  /** Re-reads checkpoints and log ends now (tests, and the loop). */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null
    })
    return this.refreshing
  }

  private schedule(): void {
    if (this.closed) return
    this.timer = setTimeout(() => void this.refresh().finally(() => this.schedule()), this.options.refreshMs)
    this.timer.unref()
  }

  private async doRefresh(): Promise<void> {
    const { namespace, countIntervalMs } = this.options
    try {
      for (const v of this.views) {
        // The checkpoint before the end: lag = end − nextOffset is then never understated.
        v.checkpoint = await this.store.loadCheckpoint(namespace, v.partition)
        v.end = (await this.log.offsets(TOPICS.events, v.partition)).end
        const at = JSON.stringify(v.checkpoint)
        if (at !== v.countedAt && (v.countedAt === null || Date.now() - v.countedTime >= countIntervalMs)) {
          v.counts = await countPartition(this.store, namespace, v.partition, this.rules)
          v.countedAt = at
          v.countedTime = Date.now()
        }
      }
      this.latest = this.build(null)
      if (this.failing) this.logger.info('state store readable again: collector snapshot refreshed')
      this.failing = false
    } catch (err) {
      if (!this.failing) this.logger.warn({ err }, 'collector could not read the workers\' checkpoints; retrying every refresh')
      this.failing = true
      this.latest = { ...this.latest, error: `state store or log unreadable: ${(err as Error).message}` }
    }
  }

  private build(error: string | null): EngineSnapshot {
    const totals = { processed: 0, late: 0, lateDropped: 0, segmentChanges: 0, notifications: 0, users: 0 }
    const segmentSizes: Record<string, number> = {}
    for (const s of this.rules.definition.segments) segmentSizes[s.name] = 0
    const partitions: EngineSnapshot['partitions'] = []
    for (const v of this.views) {
      const s = checkpointStats(v.checkpoint)
      totals.processed += s.processed
      totals.late += s.late
      totals.lateDropped += s.lateDropped
      totals.segmentChanges += s.segmentChanges
      totals.notifications += s.notifications
      totals.users += v.counts.users
      for (const sizes of v.counts.sizes.values()) for (const [name, n] of sizes) if (name in segmentSizes) segmentSizes[name] = segmentSizes[name]! + n
      const w = checkpointWatermark(v.checkpoint)
      partitions.push({ partition: v.partition, nextOffset: v.checkpoint?.nextOffset ?? 0, end: v.end, watermark: Number.isFinite(w) ? w : null })
    }
    return { ready: true, partitions, segmentSizes, error, ...totals }
  }

  /** Every stored user of the tenant, decoded, with its partition's clock. O(all users) reads. */
  private async scan(tenant: string, visit: (u: UserState, T: number) => void): Promise<void> {
    const prefix = partitionKey(tenant, '')
    for (let p = 0; p < this.partitions; p++) {
      const users: UserState[] = []
      for await (const rec of this.store.loadUsers(this.options.namespace, p)) {
        if (!rec.state || !rec.key.startsWith(prefix)) continue
        const u = decodeUser(rec.state, this.rules)
        // A prefix can also match a longer tenant name ("a" and "a:b").
        if (u.tenant === tenant) users.push(u)
      }
      const T = readTime(checkpointWatermark(await this.store.loadCheckpoint(this.options.namespace, p)), this.engineOptions, this.options.followsWallClock)
      for (const u of users) visit(u, T)
    }
  }

  private segmentIndex(name: string): number | null {
    const i = this.rules.definition.segments.findIndex((s) => s.name === name)
    return i < 0 ? null : i
  }
}
