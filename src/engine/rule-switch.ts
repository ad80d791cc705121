import type { EngineRules } from './engine-rules.ts'
import type { UserState } from './user-state.ts'
import type { WindowShape } from './window-shape.ts'

/**
 * Carries a user's state from one rule set to another (a tenant's rules changed, docs/tenancy.md):
 * aggregates by canonical text and window shape, memberships by segment name. Aggregates and
 * segments new to `next` start empty; those it lacks are dropped.
 */
export function carryOver(prev: EngineRules, next: EngineRules): (u: UserState) => void {
  const metricFrom = next.metrics.map((m) => prev.metrics.findIndex((o) => o.spec.key === m.spec.key && sameShape(o.shape, m.shape)))
  const segmentFrom = next.compiled.segments.map((s) => prev.compiled.segments.findIndex((o) => o.name === s.name))
  return (u) => {
    u.metrics = metricFrom.map((i) => (i < 0 ? undefined : u.metrics[i]))
    u.since = segmentFrom.map((i) => (i < 0 ? NaN : u.since[i]!))
    u.falseSince = segmentFrom.map((i) => (i < 0 ? NaN : u.falseSince[i]!))
    u.memberships = u.since.filter((t) => !Number.isNaN(t)).length
  }
}

function sameShape(a: WindowShape | null, b: WindowShape | null): boolean {
  return a === b || (a !== null && b !== null && a.bucketMs === b.bucketMs && a.buckets === b.buckets)
}
