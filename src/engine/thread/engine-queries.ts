import { TOPICS, type EventLog } from '../../log/event-log.ts'
import type { RulesDefinition } from '../../rules/index.ts'
import type { StateStore } from '../../state/state-store.ts'
import type { EngineOptions } from '../engine-options.ts'
import type { EngineRunner } from '../engine-runner.ts'
import { LiveUsers } from '../read/live-users.ts'
import { EngineReadModel } from '../read/read-model.ts'
import { buildSnapshot, type PartitionReading } from '../read/snapshot.ts'
import { announceLatest, type AppendToEvents, type RuleChangeContext } from '../tenant-rule-change.ts'
import { TenantRuleApi } from '../tenant-rule-api.ts'
import { backfillStatus } from '../backfill/backfill-status.ts'
import { TenantRulesView } from '../tenant-rules.ts'
import type { EngineRequest } from './messages.ts'
import type { EngineQueryApi, EngineSnapshot, SegmentInfo, SegmentInput, TenantRuleSet } from './protocol.ts'

/** How long a rule change waits for the partitions to read its record before answering. */
const APPLY_WAIT_MS = 5_000

/**
 * Answers the API's questions from the live engine state, in the engine's thread: the reads are the
 * read model's (over the live partitions), the rest is rule changes, snapshots and routing.
 */
export class EngineQueries extends EngineReadModel implements EngineQueryApi {
  /** Each tenant's latest rules (docs/tenancy.md), as stored and changed through the API. */
  private readonly view: TenantRulesView
  private readonly change: RuleChangeContext
  private readonly rules: TenantRuleApi

  constructor(
    private readonly runner: EngineRunner,
    private readonly log: EventLog,
    options: EngineOptions,
    definition: RulesDefinition,
    store: StateStore,
    append: AppendToEvents,
    followsWallClock: boolean,
  ) {
    const view = new TenantRulesView(definition)
    super(new LiveUsers(runner, options, followsWallClock, (tenant) => view.definition(tenant)), options)
    this.view = view
    this.change = { store, view, partitions: runner.workers.length, append }
    this.rules = new TenantRuleApi(this.change, (tenant, version) => this.applied(tenant, version))
  }

  /** Reads every tenant's latest rule set, and announces one that a partition's checkpoint is behind (after a crash). */
  async start(): Promise<void> {
    await announceLatest(this.change, (tenant) => Math.min(...this.runner.workers.map((w) => w.engine.book.version(tenant))))
  }

  /**
   * Routes a request to the method it names. Async so that a throwing query rejects instead of
   * taking the thread down; an unknown method (a message from a mismatched build) is refused.
   */
  async handle(msg: EngineRequest): Promise<unknown> {
    switch (msg.method) {
      case 'profile':
        return this.profile(...msg.args)
      case 'profileJson':
        return this.profileJson(...msg.args)
      case 'searchProfiles':
        return this.searchProfiles(...msg.args)
      case 'segments':
        return this.segments(...msg.args)
      case 'members':
        return this.members(...msg.args)
      case 'traits':
        return this.traits()
      case 'putSegment':
        return this.putSegment(...msg.args)
      case 'deleteSegment':
        return this.deleteSegment(...msg.args)
      case 'tenantRules':
        return this.tenantRules(...msg.args)
      case 'replaceTenantRules':
        return this.replaceTenantRules(...msg.args)
      case 'ruleHistory':
        return this.ruleHistory(...msg.args)
      default:
        throw new Error(`unknown engine method ${String((msg as { method: unknown }).method)}`)
    }
  }

  /**
   * Changes answer once every partition runs the new version (or after APPLY_WAIT_MS, with the
   * sizes counted so far): a read right after the answer sees the change.
   */
  private async applied(tenant: string, version: number): Promise<void> {
    const until = Date.now() + APPLY_WAIT_MS
    const behind = () => this.runner.workers.some((w) => w.engine.book.version(tenant) < version || w.backfills.waiting)
    while (Date.now() < until && behind()) await new Promise((resolve) => setTimeout(resolve, 5))
  }

  /** Adds or replaces a segment of the tenant's own rules (docs/tenancy.md). */
  async putSegment(name: string, input: SegmentInput, tenant: string, by: string): Promise<SegmentInfo> {
    await this.rules.putSegment(tenant, by, name, input)
    return (await this.segments(tenant)).find((s) => s.name === name)!
  }

  deleteSegment(name: string, tenant: string, by: string): Promise<boolean> {
    return this.rules.deleteSegment(tenant, by, name)
  }

  async tenantRules(tenant: string): Promise<TenantRuleSet> {
    return { ...(await this.rules.current(tenant)), backfill: backfillStatus(this.runner.workers.map((w) => w.backfills.progressOf(tenant))) }
  }

  replaceTenantRules(tenant: string, yaml: string, by: string): Promise<TenantRuleSet> {
    return this.rules.replace(tenant, yaml, by)
  }

  ruleHistory(tenant: string, limit: number): Promise<TenantRuleSet[]> {
    return this.rules.history(tenant, limit)
  }

  async snapshot(): Promise<EngineSnapshot> {
    const partitions: PartitionReading[] = []
    for (const w of this.runner.workers) {
      const e = w.engine
      const { end } = await this.log.offsets(TOPICS.events, w.partition)
      partitions.push({ partition: w.partition, nextOffset: w.nextOffset, end, watermark: e.watermark, stats: { ...e.stats }, identity: { ...e.identity.stats }, users: e.userCount, sizes: e.sizes })
    }
    const snapshot = buildSnapshot(partitions, this.view.base, this.runner.error?.message ?? null)
    const progress = this.runner.lastProgress
    return progress === null ? snapshot : { ...snapshot, progress }
  }
}
