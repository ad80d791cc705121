import type { Logger } from '../logger.ts'
import type { StateStore } from '../state/state-store.ts'
import type { RulesRecord } from './rules-record.ts'

/**
 * Puts back the tenant rule sets a checkpoint says were in effect at its offset (docs/tenancy.md):
 * their texts from the state store, which keeps every version, so a restore needs no log record
 * older than the checkpoint. A version the store does not hold, or one that no longer compiles
 * against the rules file (a trait removed from it, say), leaves that tenant on the base: logged, and
 * the partition goes on, as it does for a rules record that does not apply.
 */
export async function restoreTenantRules(
  target: { applyRules(r: RulesRecord): unknown },
  store: StateStore,
  versions: Record<string, number> | undefined,
  partition: number,
  logger?: Logger,
): Promise<void> {
  for (const [tenant, version] of Object.entries(versions ?? {})) {
    const set = await store.getRuleSet(tenant, version)
    if (set === null) {
      logger?.error({ partition, tenant, version }, 'tenant rule set named by the checkpoint is not in the state store; the tenant runs the base rules')
      continue
    }
    try {
      target.applyRules(set)
    } catch (err) {
      logger?.error({ err, partition, tenant, version }, 'tenant rule set no longer compiles against the rules file; the tenant runs the base rules')
    }
  }
}

/** A checkpoint's tenant rule set versions (docs/tenancy.md); none in one written before them. */
export function checkpointRules(engine: Record<string, unknown> | undefined): Record<string, number> | undefined {
  const rules = engine?.rules
  return typeof rules === 'object' && rules !== null ? (rules as Record<string, number>) : undefined
}

/** The tenant of a stored user's key (`tenant:user_id`; tenants hold no colon). */
export function tenantOfKey(key: string): string {
  return key.slice(0, key.indexOf(':'))
}
