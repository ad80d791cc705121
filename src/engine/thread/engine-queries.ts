import { TOPICS, type EventLog } from '../../log/event-log.ts'
import type { RulesDefinition } from '../../rules/index.ts'
import type { EngineOptions } from '../engine-options.ts'
import type { EngineRunner } from '../engine-runner.ts'
import { prepareRules } from '../engine-rules.ts'
import { LiveUsers } from '../read/live-users.ts'
import { EngineReadModel } from '../read/read-model.ts'
import { buildSnapshot, type PartitionReading } from '../read/snapshot.ts'
import { saveRules, upsertSegment } from '../rules-source.ts'
import type { EngineRequest } from './messages.ts'
import type { EngineQueryApi, EngineSnapshot, SegmentInfo, SegmentInput } from './protocol.ts'

/**
 * Answers the API's questions from the live engine state, in the engine's thread: the reads are the
 * read model's (over the live partitions), the rest is rule changes, snapshots and routing.
 */
export class EngineQueries extends EngineReadModel implements EngineQueryApi {
  /** The rules the engine runs now; a box, so the read model's source sees run-time changes. */
  private readonly current: { definition: RulesDefinition }

  constructor(
    private readonly runner: EngineRunner,
    private readonly log: EventLog,
    private readonly options: EngineOptions,
    definition: RulesDefinition,
    private readonly rulesPath: string,
    followsWallClock: boolean,
  ) {
    const current = { definition }
    super(new LiveUsers(runner, options, followsWallClock, () => current.definition), options)
    this.current = current
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
      default:
        throw new Error(`unknown engine method ${String((msg as { method: unknown }).method)}`)
    }
  }

  async putSegment(name: string, input: SegmentInput, tenant: string): Promise<SegmentInfo> {
    const next = upsertSegment(this.current.definition, name, input)
    const rules = prepareRules(next, this.options)
    for (const w of this.runner.workers) w.replaceRules(rules)
    this.current.definition = next
    saveRules(this.rulesPath, next)
    return (await this.segments(tenant)).find((s) => s.name === name)!
  }

  async snapshot(): Promise<EngineSnapshot> {
    const partitions: PartitionReading[] = []
    for (const w of this.runner.workers) {
      const e = w.engine
      const { end } = await this.log.offsets(TOPICS.events, w.partition)
      partitions.push({ partition: w.partition, nextOffset: w.nextOffset, end, watermark: e.watermark, stats: { ...e.stats }, identity: { ...e.identity.stats }, users: e.userCount, sizes: e.sizes })
    }
    return buildSnapshot(partitions, this.current.definition, this.runner.error?.message ?? null)
  }
}
