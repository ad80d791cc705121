import type { RuleSetVersion } from '../state/state-store.ts'
import { changeTenantRules, putTenantSegment, removeTenantSegment, type RuleChangeContext } from './tenant-rule-change.ts'
import type { SegmentInput, TenantRuleSet } from './thread/protocol.ts'

/**
 * A tenant's own rules as the API reads and changes them (docs/tenancy.md), the same on `serve`'s
 * engine thread and on a collector; they differ in what a change waits for (`applied`).
 */
export class TenantRuleApi {
  constructor(
    private readonly c: RuleChangeContext,
    /** Resolves once the partitions here run the version (the engine thread); collectors do not wait. */
    private readonly applied: (tenant: string, version: number) => Promise<void> = () => Promise.resolve(),
  ) {}

  async current(tenant: string): Promise<TenantRuleSet> {
    const [latest] = await this.c.store.ruleSetHistory(tenant, 1)
    return latest === undefined ? { tenant, version: 0, yaml: '', changed_by: null, changed_at: null } : asRuleSet(latest)
  }

  /**
   * Replaces the tenant's own rules with a YAML rule set (segments and triggers), stored as sent,
   * comments included; a RuleError points into that text.
   */
  async replace(tenant: string, yaml: string, by: string): Promise<TenantRuleSet> {
    const set = await changeTenantRules(this.c, tenant, by, () => yaml)
    await this.applied(tenant, set.version)
    return asRuleSet(set)
  }

  async putSegment(tenant: string, by: string, name: string, input: SegmentInput): Promise<void> {
    const set = await putTenantSegment(this.c, tenant, by, name, input)
    await this.applied(tenant, set.version)
  }

  /**
   * Removes a segment of the tenant's own rules: a segment of the rules file by that name, if any,
   * applies to the tenant again. False when the tenant has no segment of its own by that name.
   */
  async deleteSegment(tenant: string, by: string, name: string): Promise<boolean> {
    // Whether the tenant owns it is decided on the stored set, in the change itself.
    try {
      const set = await removeTenantSegment(this.c, tenant, by, name, () => new NotOwnError())
      await this.applied(tenant, set.version)
      return true
    } catch (err) {
      if (err instanceof NotOwnError) return false
      throw err
    }
  }

  async history(tenant: string, limit: number): Promise<TenantRuleSet[]> {
    return (await this.c.store.ruleSetHistory(tenant, limit)).map(asRuleSet)
  }
}

/** Removed meanwhile by another change: nothing to remove. */
class NotOwnError extends Error {}

function asRuleSet(v: RuleSetVersion): TenantRuleSet {
  return { tenant: v.tenant, version: v.version, yaml: v.text, changed_by: v.by, changed_at: v.at }
}
