import type { RulesDefinition } from '../../rules/index.ts'
import type { EngineRules } from '../engine-rules.ts'
import type { UserState } from '../user-state.ts'

/**
 * Where the read model finds users: the live engine's partitions (the engine thread) or the
 * workers' checkpoints in the state store (`serve --no-engine`). Each user comes with the rules
 * its partition runs for its tenant and the time that partition is read at (readTime of its clock).
 */
export interface UserSource {
  /**
   * The rules a tenant's answers are given against (segment names, texts, order): its latest rule
   * set over the base (docs/tenancy.md); the base when no tenant is named.
   */
  definition(tenant?: string): RulesDefinition
  /** One user, or null when the partition holds none by that id. */
  user(tenant: string, userId: string): Promise<UserAt | null>
  /** Every user of a tenant, partition by partition, in no particular order. */
  scan(tenant: string, visit: (u: UserState, rules: EngineRules, T: number) => void): Promise<void>
  /** Members of a segment in a tenant, all partitions together. */
  segmentSize(tenant: string, segment: string): number
}

export interface UserAt {
  user: UserState
  rules: EngineRules
  /** The time the user's partition is read at. */
  T: number
}
