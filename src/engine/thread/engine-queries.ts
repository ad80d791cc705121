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
import type { EngineQueryApi, EngineSnapshot, MemberPage, Profile, ProfilePage, ProfileQuery, SegmentInfo, SegmentInput } from './protocol.ts'

/** Answers the API's questions from the live engine state, in the engine's thread. */
export class EngineQueries implements EngineQueryApi {
  private readonly read: EngineReadModel

  constructor(
    private readonly runner: EngineRunner,
    private readonly log: EventLog,
    private readonly options: EngineOptions,
    private definition: RulesDefinition,
    private readonly rulesPath: string,
    followsWallClock: boolean,
  ) {
    this.read = new EngineReadModel(new LiveUsers(runner, options, followsWallClock, () => this.definition), options)
  }

  /**
   * Routes a request to the method it names. Async so that a throwing query rejects instead of
   * taking the thread down; an unknown method (a message from a mismatched build) is refused.
   */
  async handle(msg: EngineRequest): Promise<unknown> {
    switch (msg.method) {
      case 'profile':
        return this.profile(...msg.args)
      case 'searchProfiles':
        return this.searchProfiles(...msg.args)
      case 'segments':
        return this.segments(...msg.args)
      case 'members':
        return this.members(...msg.args)
      case 'putSegment':
        return this.putSegment(...msg.args)
      default:
        throw new Error(`unknown engine method ${String((msg as { method: unknown }).method)}`)
    }
  }

  profile(tenant: string, userId: string): Promise<Profile | null> {
    return this.read.profile(tenant, userId)
  }

  searchProfiles(q: ProfileQuery): Promise<ProfilePage> {
    return this.read.searchProfiles(q)
  }

  members(tenant: string, name: string, limit: number, cursor?: string): Promise<MemberPage | null> {
    return this.read.members(tenant, name, limit, cursor)
  }

  segments(tenant: string): Promise<SegmentInfo[]> {
    return this.read.segments(tenant)
  }

  async putSegment(name: string, input: SegmentInput, tenant: string): Promise<SegmentInfo> {
    const next = upsertSegment(this.definition, name, input)
    const rules = prepareRules(next, this.options)
    for (const w of this.runner.workers) w.replaceRules(rules)
    this.definition = next
    saveRules(this.rulesPath, next)
    return (await this.segments(tenant)).find((s) => s.name === name)!
  }

  async snapshot(): Promise<EngineSnapshot> {
    const partitions: PartitionReading[] = []
    for (const w of this.runner.workers) {
      const e = w.engine
      const { end } = await this.log.offsets(TOPICS.events, w.partition)
      partitions.push({ partition: w.partition, nextOffset: w.nextOffset, end, watermark: e.watermark, stats: { ...e.stats }, users: e.userCount, sizes: e.sizes })
    }
    return buildSnapshot(partitions, this.definition, this.runner.error?.message ?? null)
  }
}
