import { partitionOfUser } from '../../events/partition.ts'
import type { RulesDefinition } from '../../rules/index.ts'
import type { EngineOptions } from '../engine-options.ts'
import type { EngineRules } from '../engine-rules.ts'
import type { EngineRunner } from '../engine-runner.ts'
import { readTime } from '../profile.ts'
import type { UserState } from '../user-state.ts'
import type { UserAt, UserSource } from './user-source.ts'

/** The live engine's partitions as a UserSource: in the engine's thread, reading its state in place. */
export class LiveUsers implements UserSource {
  constructor(
    private readonly runner: EngineRunner,
    private readonly options: EngineOptions,
    /** Reads are as of now, not of the watermark (clock records on: readTime). */
    private readonly followsWallClock: boolean,
    /** Each tenant's latest rules, as the API changed them. */
    private readonly current: (tenant?: string) => RulesDefinition,
  ) {}

  definition(tenant?: string): RulesDefinition {
    return this.current(tenant)
  }

  user(tenant: string, userId: string): Promise<UserAt | null> {
    const found = this.find(tenant, userId)
    if (found !== null || this.runner.workers.length === 0) return Promise.resolve(found)
    // An absorbed id answers with its person's profile (docs/identity.md): its redirect, then the person.
    const w = this.runner.workers[partitionOfUser(tenant, userId, this.runner.workers.length)]
    const person = w?.engine.redirectOf(tenant, userId)
    return Promise.resolve(person === undefined ? null : this.find(tenant, person))
  }

  private find(tenant: string, userId: string): UserAt | null {
    const w = this.runner.workers[partitionOfUser(tenant, userId, this.runner.workers.length)]
    const user = w?.engine.getUser(tenant, userId)
    return w && user ? { user, rules: w.engine.rulesOf(tenant), T: this.T(w.engine.watermark) } : null
  }

  scan(tenant: string, visit: (u: UserState, rules: EngineRules, T: number) => void): Promise<void> {
    for (const w of this.runner.workers) {
      const users = w.engine.tenants.get(tenant)
      if (!users) continue
      const T = this.T(w.engine.watermark)
      const rules = w.engine.rulesOf(tenant)
      for (const u of users.values()) visit(u, rules, T)
    }
    return Promise.resolve()
  }

  segmentSize(tenant: string, segment: string): number {
    let size = 0
    for (const w of this.runner.workers) size += w.engine.sizes.get(tenant)?.get(segment) ?? 0
    return size
  }

  private T(watermark: number): number {
    return readTime(watermark, this.options, this.followsWallClock)
  }
}
