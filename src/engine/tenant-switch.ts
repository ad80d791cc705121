import type { EngineRules } from './engine-rules.ts'
import type { RuleRuntime } from './rule-runtime.ts'
import type { RuleBook } from './tenant-rules.ts'
import type { RulesRecord } from './rules-record.ts'
import type { SegmentSizes } from './segment-sizes.ts'
import type { UserState } from './user-state.ts'
import type { WindowShape } from '../rules/window-shape.ts'

/*
 * A partition switching one tenant's rules (docs/tenancy.md), apart from the event path in
 * partition-engine.ts.
 */

/** What a switch needs of the partition's engine (PartitionEngine; named here so neither file imports the other). */
export interface SwitchHost {
  readonly book: RuleBook
  readonly tenants: ReadonlyMap<string, Map<string, UserState>>
  readonly sizes: SegmentSizes
  readonly watermark: number
  touch(u: UserState): void
  runtimeOf(tenant: string): RuleRuntime
  evaluate(u: UserState, T: number, rt: RuleRuntime): void
  schedule(u: UserState, T: number, rt: RuleRuntime): void
}

/**
 * The tenant switches to its own rule set at this version, here and now. A version at or below the
 * one in effect is a copy already applied and changes nothing (null). State is carried over by
 * aggregate text and segment name; new aggregates start empty, and their indexes are returned: the
 * caller fills them from history (backfill/), then calls reevaluateTenant. Throws a RuleError when
 * the set does not compile against the base, and the tenant keeps the rules it had.
 */
export function switchTenantRules(engine: SwitchHost, r: RulesRecord): number[] | null {
  const prev = engine.book.of(r.tenant)
  if (!engine.book.apply(r)) return null
  const next = engine.book.of(r.tenant)
  const { carry, fresh } = carryOver(prev, next)
  const users = engine.tenants.get(r.tenant)
  for (const u of users?.values() ?? []) {
    carry(u)
    // Its state now reads against other rules: the next checkpoint writes it so.
    engine.touch(u)
  }
  engine.sizes.delete(r.tenant)
  for (const u of users?.values() ?? []) bumpMemberships(engine.sizes, u, next)
  return fresh
}

/**
 * Evaluates every user of the tenant at the watermark, with the rules it runs now: after its rules
 * changed, or its new aggregates were filled from history, the entries and exits that follow are
 * emitted at once, not at each user's next event.
 */
export function reevaluateTenant(engine: SwitchHost, tenant: string): void {
  const users = engine.tenants.get(tenant)
  const T = engine.watermark
  if (users === undefined || !Number.isFinite(T)) return
  const rt = engine.runtimeOf(tenant)
  for (const u of users.values()) {
    engine.evaluate(u, T, rt)
    engine.schedule(u, T, rt)
    engine.touch(u)
  }
}

/** Adds a user's memberships to the segment sizes. */
export function bumpMemberships(sizes: SegmentSizes, u: UserState, rules: EngineRules): void {
  const segments = rules.compiled.segments
  for (let i = 0; i < segments.length; i++) if (u.isMember(i)) sizes.bump(u.tenant, segments[i]!.name, 1)
}

/**
 * How a user's state carries from one rule set to another: aggregates by canonical text and window
 * shape, memberships by segment name. Aggregates and segments new to `next` start empty (`fresh`:
 * the aggregates' indexes in `next`); those it lacks are dropped.
 */
function carryOver(prev: EngineRules, next: EngineRules): { carry: (u: UserState) => void; fresh: number[] } {
  const metricFrom = next.metrics.map((m) => prev.metrics.findIndex((o) => o.spec.key === m.spec.key && sameShape(o.shape, m.shape)))
  const segmentFrom = next.compiled.segments.map((s) => prev.compiled.segments.findIndex((o) => o.name === s.name))
  const fresh = metricFrom.flatMap((from, i) => (from < 0 ? [i] : []))
  const carry = (u: UserState) => {
    u.metrics = metricFrom.map((i) => (i < 0 ? undefined : u.metrics[i]))
    u.since = segmentFrom.map((i) => (i < 0 ? NaN : u.since[i]!))
    u.falseSince = segmentFrom.map((i) => (i < 0 ? NaN : u.falseSince[i]!))
    u.memberships = u.since.filter((t) => !Number.isNaN(t)).length
  }
  return { carry, fresh }
}

function sameShape(a: WindowShape | null, b: WindowShape | null): boolean {
  return a === b || (a !== null && b !== null && a.bucketMs === b.bucketMs && a.buckets === b.buckets)
}
