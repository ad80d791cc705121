import type { EngineOptions } from '../../engine/engine-options.ts'
import type { EngineRules } from '../../engine/engine-rules.ts'
import { DEFAULT_WORKER_OPTIONS } from '../../engine/partition-worker.ts'
import { EngineReadModel } from '../../engine/read/read-model.ts'
import { buildSnapshot, type PartitionReading } from '../../engine/read/snapshot.ts'
import type { EngineClient, EngineSnapshot, SegmentInfo } from '../../engine/thread/protocol.ts'
import { TOPICS, type EventLog } from '../../log/event-log.ts'
import type { Logger } from '../../logger.ts'
import type { StateStore } from '../../state/state-store.ts'
import { checkpointIdentity, checkpointStats, checkpointWatermark, countPartition, emptyView, type PartitionView } from './partition-view.ts'
import { SegmentsReadOnlyError } from './read-only.ts'
import { StoredUsers } from './stored-users.ts'

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
export class StoreEngineClient extends EngineReadModel implements EngineClient {
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
    const views = Array.from({ length: partitions }, (_, p) => emptyView(p))
    // Reads (profile, search, members, segments) are the read model's, over the checkpoints.
    super(new StoredUsers(store, options.namespace, rules, engineOptions, options.followsWallClock, views), engineOptions)
    this.views = views
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
      if (!this.failing) this.logger.warn({ err }, "collector could not read the workers' checkpoints; retrying every refresh")
      this.failing = true
      this.latest = { ...this.latest, error: `state store or log unreadable: ${(err as Error).message}` }
    }
  }

  private build(error: string | null): EngineSnapshot {
    const partitions: PartitionReading[] = this.views.map((v) => ({
      partition: v.partition,
      nextOffset: v.checkpoint?.nextOffset ?? 0,
      end: v.end,
      watermark: checkpointWatermark(v.checkpoint),
      stats: checkpointStats(v.checkpoint),
      identity: checkpointIdentity(v.checkpoint),
      users: v.counts.users,
      sizes: v.counts.sizes,
    }))
    return buildSnapshot(partitions, this.rules.definition, error)
  }
}
