import type { EngineOptions } from '../../engine/engine-options.ts'
import type { EngineRules } from '../../engine/engine-rules.ts'
import { DEFAULT_WORKER_OPTIONS } from '../../engine/partition-worker.ts'
import { EngineReadModel } from '../../engine/read/read-model.ts'
import { buildSnapshot, type PartitionReading } from '../../engine/read/snapshot.ts'
import type { EngineClient, EngineSnapshot, SegmentInfo, SegmentInput, TenantRuleSet } from '../../engine/thread/protocol.ts'
import { TOPICS, type EventLog } from '../../log/event-log.ts'
import type { Logger } from '../../logger.ts'
import type { PartitionCheckpoint, StateStore } from '../../state/state-store.ts'
import { checkpointIdentity, checkpointStats, checkpointWatermark, countPartition, emptyView, type PartitionView } from './partition-view.ts'
import { RuleBook, TenantRulesView } from '../../engine/tenant-rules.ts'
import { announceLatest, appendToLog, type RuleChangeContext } from '../../engine/tenant-rule-change.ts'
import { TenantRuleApi } from '../../engine/tenant-rule-api.ts'
import { checkpointRules, restoreTenantRules } from '../../engine/restore-rules.ts'
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
  /** Collectors write the events log: a rule change is stored and announced from here (docs/tenancy.md). */
  private readonly change: RuleChangeContext
  private readonly ruleApi: TenantRuleApi
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
    const base = new RuleBook(rules, engineOptions)
    const views = Array.from({ length: partitions }, (_, p) => emptyView(p, base))
    const tenants = new TenantRulesView(rules.definition)
    // Reads (profile, search, members, segments) are the read model's, over the checkpoints.
    super(new StoredUsers(store, options.namespace, tenants, engineOptions, options.followsWallClock, views, (p, ckpt) => this.bookAt(views[p]!, ckpt)), engineOptions)
    this.views = views
    this.change = { store, view: tenants, partitions, append: appendToLog(log) }
    this.ruleApi = new TenantRuleApi(this.change)
  }

  /** Reads every checkpoint and counts every partition once before answering, then keeps refreshing. */
  static async start(
    c: { log: EventLog; store: StateStore; partitions: number; rules: EngineRules; engine: EngineOptions; logger: Logger },
    options: Partial<StoreEngineOptions> = {},
  ): Promise<StoreEngineClient> {
    const client = new StoreEngineClient(c.log, c.store, c.partitions, c.rules, c.engine, { ...DEFAULT_STORE_ENGINE_OPTIONS, ...options }, c.logger)
    await client.refresh()
    await announceLatest(client.change, (tenant) => Math.min(...client.views.map((v) => checkpointRules(v.checkpoint?.engine)?.[tenant] ?? 0)))
    client.schedule()
    return client
  }

  snapshot(): EngineSnapshot {
    return this.latest
  }

  /**
   * Adds or replaces a segment of the tenant's own rules: stored and announced to the workers through
   * the log. The answer's size is as of the workers' last checkpoints (0 for a new segment).
   */
  async putSegment(name: string, input: SegmentInput, tenant: string, by: string): Promise<SegmentInfo> {
    await this.ruleApi.putSegment(tenant, by, name, input)
    return (await this.segments(tenant)).find((s) => s.name === name)!
  }

  deleteSegment(name: string, tenant: string, by: string): Promise<boolean> {
    return this.ruleApi.deleteSegment(tenant, by, name)
  }

  tenantRules(tenant: string): Promise<TenantRuleSet> {
    return this.ruleApi.current(tenant)
  }

  replaceTenantRules(tenant: string, yaml: string, by: string): Promise<TenantRuleSet> {
    return this.ruleApi.replace(tenant, yaml, by)
  }

  ruleHistory(tenant: string, limit: number): Promise<TenantRuleSet[]> {
    return this.ruleApi.history(tenant, limit)
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
        await this.bookAt(v, v.checkpoint)
        const at = JSON.stringify(v.checkpoint)
        if (at !== v.countedAt && (v.countedAt === null || Date.now() - v.countedTime >= countIntervalMs)) {
          v.counts = await countPartition(this.store, namespace, v.partition, v.book)
          v.countedAt = at
          v.countedTime = Date.now()
        }
      }
      for (const set of await this.store.latestRuleSets()) this.change.view.update(set)
      this.latest = this.build(null)
      if (this.failing) this.logger.info('state store readable again: collector snapshot refreshed')
      this.failing = false
    } catch (err) {
      if (!this.failing) this.logger.warn({ err }, "collector could not read the workers' checkpoints; retrying every refresh")
      this.failing = true
      this.latest = { ...this.latest, error: `state store or log unreadable: ${(err as Error).message}` }
    }
  }

  /** The partition's rules as of a checkpoint of it: rebuilt when the checkpoint names other versions than the last. */
  private async bookAt(v: PartitionView, checkpoint: PartitionCheckpoint | null): Promise<RuleBook> {
    const versions = checkpointRules(checkpoint?.engine)
    const at = JSON.stringify(versions ?? {})
    if (at === v.bookAt) return v.book
    const book = new RuleBook(this.rules, this.engineOptions)
    await restoreTenantRules({ applyRules: (r) => book.apply(r) }, this.store, versions, v.partition, this.logger)
    v.book = book
    v.bookAt = at
    return book
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
