import type { EngineOptions } from '../../engine/engine-options.ts'
import type { EngineRules } from '../../engine/engine-rules.ts'
import { readTime } from '../../engine/profile.ts'
import type { UserAt, UserSource } from '../../engine/read/user-source.ts'
import { decodeUser } from '../../engine/user-snapshot.ts'
import type { UserState } from '../../engine/user-state.ts'
import { partitionKey, partitionOfUser } from '../../events/partition.ts'
import type { RulesDefinition } from '../../rules/index.ts'
import type { RuleBook, TenantRulesView } from '../../engine/tenant-rules.ts'
import type { PartitionCheckpoint, StateStore } from '../../state/state-store.ts'
import { checkpointWatermark, type PartitionView } from './partition-view.ts'

/**
 * The workers' checkpoints as a UserSource (`serve --no-engine`): a profile is one key read, a
 * scan decodes every stored user of the partition; sizes come from the views' last counts.
 */
export class StoredUsers implements UserSource {
  constructor(
    private readonly store: StateStore,
    private readonly namespace: string,
    private readonly view: TenantRulesView,
    private readonly engineOptions: EngineOptions,
    private readonly followsWallClock: boolean,
    private readonly views: readonly PartitionView[],
    /** The rules a partition runs as of a checkpoint of it (docs/tenancy.md). */
    private readonly bookAt: (partition: number, checkpoint: PartitionCheckpoint | null) => Promise<RuleBook>,
  ) {}

  definition(tenant?: string): RulesDefinition {
    return this.view.definition(tenant)
  }

  async user(tenant: string, userId: string, follow = true): Promise<UserAt | null> {
    const p = partitionOfUser(tenant, userId, this.views.length)
    const bytes = await this.store.getUser(this.namespace, p, partitionKey(tenant, userId))
    if (!bytes) return null
    // Read after the user: that checkpoint is the one that wrote this state or a later one, so
    // neither its clock nor the rules it names are behind the state.
    const { rules, T } = await this.at(p, tenant)
    const user = decodeUser(bytes, rules)
    // An absorbed id's redirect row: the answer is its person's (one hop: a person is never absorbed).
    if (user.redirectTo !== null) return follow ? this.user(tenant, user.redirectTo, false) : null
    return { user, rules, T }
  }

  /** Every stored user of the tenant, decoded, with its partition's clock. O(all users) reads. */
  async scan(tenant: string, visit: (u: UserState, rules: EngineRules, T: number) => void): Promise<void> {
    const prefix = partitionKey(tenant, '')
    for (let p = 0; p < this.views.length; p++) {
      const states: Uint8Array[] = []
      for await (const rec of this.store.loadUsers(this.namespace, p)) if (rec.state && rec.key.startsWith(prefix)) states.push(rec.state)
      const { rules, T } = await this.at(p, tenant)
      for (const state of states) {
        const u = decodeUser(state, rules)
        // A prefix can also match a longer tenant name ("a" and "a:b").
        if (u.tenant === tenant && u.redirectTo === null) visit(u, rules, T)
      }
    }
  }

  segmentSize(tenant: string, segment: string): number {
    let size = 0
    for (const v of this.views) size += v.counts.sizes.get(tenant)?.get(segment) ?? 0
    return size
  }

  /** The tenant's rules and the read time of a partition, both as of its checkpoint now. */
  private async at(partition: number, tenant: string): Promise<{ rules: EngineRules; T: number }> {
    const ckpt = await this.store.loadCheckpoint(this.namespace, partition)
    const book = await this.bookAt(partition, ckpt)
    return { rules: book.of(tenant), T: readTime(checkpointWatermark(ckpt), this.engineOptions, this.followsWallClock) }
  }
}
