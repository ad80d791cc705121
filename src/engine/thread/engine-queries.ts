import { partitionOfUser } from '../../events/partition.ts'
import { TOPICS, type EventLog } from '../../log/event-log.ts'
import type { EngineOptions } from '../engine-options.ts'
import type { EngineRunner } from '../engine-runner.ts'
import { prepareRules } from '../engine-rules.ts'
import { compareIds } from '../id-order.ts'
import { buildProfile, matchesTraits, readTime } from '../profile.ts'
import { saveRules, upsertSegment } from '../rules-source.ts'
import { formatDuration, type RulesDefinition } from '../../rules/index.ts'
import type { UserState } from '../user-state.ts'
import type { EngineSnapshot, Profile, ProfilePage, ProfileQuery, SegmentInfo, SegmentInput } from './protocol.ts'

/** Answers the API's questions from the live engine state, in the engine's thread. */
export class EngineQueries {
  constructor(
    private readonly runner: EngineRunner,
    private readonly log: EventLog,
    private readonly options: EngineOptions,
    private definition: RulesDefinition,
    private readonly rulesPath: string,
    /** Reads are as of now, not of the watermark (clock records on: readTime). */
    private readonly followsWallClock: boolean,
  ) {}

  private T(watermark: number): number {
    return readTime(watermark, this.options, this.followsWallClock)
  }

  /** Async so that a throwing query rejects instead of taking the thread down. */
  async handle(method: string, args: unknown[]): Promise<unknown> {
    switch (method) {
      case 'profile':
        return this.profile(args[0] as string, args[1] as string)
      case 'searchProfiles':
        return this.search(args[0] as ProfileQuery)
      case 'segments':
        return this.segments(args[0] as string)
      case 'members':
        return this.members(args[0] as string, args[1] as string, args[2] as number, args[3] as string | undefined)
      case 'putSegment':
        return this.putSegment(args[0] as string, args[1] as SegmentInput, args[2] as string)
      default:
        throw new Error(`unknown engine method ${method}`)
    }
  }

  profile(tenant: string, userId: string): Profile | null {
    const w = this.runner.workers[partitionOfUser(tenant, userId, this.runner.workers.length)]
    const u = w?.engine.getUser(tenant, userId)
    return w && u ? buildProfile(u, w.rules, this.options, this.T(w.engine.watermark)) : null
  }

  search(q: ProfileQuery): ProfilePage {
    const segment = q.segment === undefined ? -1 : this.segmentIndex(q.segment)
    if (segment === null) return { profiles: [], next: null }
    const found: Array<{ u: UserState; p: number }> = []
    this.runner.workers.forEach((w, p) => {
      const users = w.engine.tenants.get(q.tenant)
      if (!users) return
      for (const u of users.values()) {
        if (q.cursor !== undefined && compareIds(u.userId, q.cursor) <= 0) continue
        if (segment >= 0 && !u.isMember(segment)) continue
        if (!matchesTraits(u, q.where, this.options, this.T(w.engine.watermark))) continue
        found.push({ u, p })
      }
    })
    found.sort((a, b) => compareIds(a.u.userId, b.u.userId))
    const page = found.slice(0, q.limit)
    return {
      profiles: page.map(({ u, p }) => buildProfile(u, this.runner.workers[p]!.rules, this.options, this.T(this.runner.workers[p]!.engine.watermark))),
      next: found.length > q.limit ? page[page.length - 1]!.u.userId : null,
    }
  }

  members(tenant: string, name: string, limit: number, cursor?: string): { members: Array<{ user_id: string; since: number }>; next: string | null } | null {
    const segment = this.segmentIndex(name)
    if (segment === null) return null
    const found: Array<{ user_id: string; since: number }> = []
    for (const w of this.runner.workers) {
      const users = w.engine.tenants.get(tenant)
      if (!users) continue
      for (const u of users.values()) {
        if (!u.isMember(segment) || (cursor !== undefined && compareIds(u.userId, cursor) <= 0)) continue
        found.push({ user_id: u.userId, since: u.since[segment]! })
      }
    }
    found.sort((a, b) => compareIds(a.user_id, b.user_id))
    const page = found.slice(0, limit)
    return { members: page, next: found.length > limit ? page[page.length - 1]!.user_id : null }
  }

  segments(tenant: string): SegmentInfo[] {
    return this.definition.segments.map((s) => {
      let size = 0
      for (const w of this.runner.workers) size += w.engine.sizes.get(tenant)?.get(s.name) ?? 0
      return { name: s.name, when: s.text, keep: s.keepMs > 0 ? formatDuration(s.keepMs) : null, description: s.description ?? null, size }
    })
  }

  putSegment(name: string, input: SegmentInput, tenant: string): SegmentInfo {
    const next = upsertSegment(this.definition, name, input)
    const rules = prepareRules(next, this.options)
    for (const w of this.runner.workers) w.replaceRules(rules)
    this.definition = next
    saveRules(this.rulesPath, next)
    return this.segments(tenant).find((s) => s.name === name)!
  }

  async snapshot(): Promise<EngineSnapshot> {
    const totals = { processed: 0, late: 0, lateDropped: 0, segmentChanges: 0, notifications: 0, poisonRecords: 0, users: 0 }
    const segmentSizes: Record<string, number> = {}
    for (const s of this.definition.segments) segmentSizes[s.name] = 0
    const partitions: EngineSnapshot['partitions'] = []
    for (const w of this.runner.workers) {
      const e = w.engine
      totals.processed += e.stats.processed
      totals.late += e.stats.late
      totals.lateDropped += e.stats.lateDropped
      totals.segmentChanges += e.stats.segmentChanges
      totals.notifications += e.stats.notifications
      totals.poisonRecords += e.stats.poison
      totals.users += e.userCount
      for (const sizes of e.sizes.values()) for (const [name, n] of sizes) if (name in segmentSizes) segmentSizes[name] = segmentSizes[name]! + n
      const { end } = await this.log.offsets(TOPICS.events, w.partition)
      partitions.push({ partition: w.partition, nextOffset: w.nextOffset, end, watermark: Number.isFinite(e.watermark) ? e.watermark : null })
    }
    return { ready: true, partitions, segmentSizes, error: this.runner.error?.message ?? null, ...totals }
  }

  private segmentIndex(name: string): number | null {
    const i = this.definition.segments.findIndex((s) => s.name === name)
    return i < 0 ? null : i
  }
}
