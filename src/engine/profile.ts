import { KNOWN_TRAITS, type TraitName } from '../rules/index.ts'
import type { EngineRules } from './engine-rules.ts'
import type { EngineOptions } from './engine-options.ts'
import { eventNameOf } from './event-names.ts'
import { metricValueAt } from './custom-traits.ts'
import { anyTrait, userTrait } from './rule-env.ts'
import type { Profile, ProfileTraits, TraitCondition } from './thread/protocol.ts'
import { LINK, type UserState } from './user-state.ts'

/**
 * The time profiles and searches are read at: now (less the allowed lateness) where the clock
 * follows the wall clock (live mode, docs/engine.md "Time"), so windows show what slid out during
 * quiet time; else the partition's watermark. Never before the watermark.
 */
export function readTime(watermark: number, options: EngineOptions, followsWallClock: boolean): number {
  return followsWallClock ? Math.max(watermark, Date.now() - options.allowedLatenessMs) : watermark
}

/** A user's live profile as the API returns it, read at time T without changing any state. */
export function buildProfile(u: UserState, rules: EngineRules, options: EngineOptions, T: number): Profile {
  const counts: Record<string, number> = {}
  u.counts.forEach((n, id) => {
    // defineProperty, not assignment: an event named __proto__ is a count like any other.
    if (n !== undefined) Object.defineProperty(counts, eventNameOf(id), { value: n, enumerable: true, writable: true, configurable: true })
  })
  const metrics: Record<string, number | null> = {}
  for (const m of rules.metrics) {
    metrics[m.spec.key] = metricValueAt(u.metrics[m.spec.index], m.spec.agg, T)
  }
  return {
    tenant: u.tenant,
    user_id: u.userId,
    traits: traitValues(u, rules, T, options),
    counts,
    segments: rules.compiled.segments.flatMap((s, i) => (u.isMember(i) ? [{ segment: s.name, since: u.since[i]! }] : [])),
    metrics,
    ids: linkedIds(u),
  }
}

/** The ids a person holds besides its own (links granted), in link order. */
export function linkedIds(u: UserState): string[] {
  const out: string[] = []
  if (u.links !== null) for (const [id, state] of u.links) if (state === LINK.linked) out.push(id)
  return out
}

/** Every trait of a user at time T: the registry's in its order, then the rules file's declared ones in theirs. */
export function traitValues(u: UserState, rules: EngineRules, T: number, options: EngineOptions): ProfileTraits {
  const values: Partial<Record<TraitName, string | number | boolean | null>> & Record<string, string | number | boolean | null> = {}
  for (const name of KNOWN_TRAITS) values[name] = userTrait(u, name, T, options)
  for (const name of rules.traitsByName.keys()) {
    Object.defineProperty(values, name, { value: anyTrait(u, name, T, rules, options), enumerable: true, writable: true, configurable: true })
  }
  return values as ProfileTraits
}

/** Whether a user's traits satisfy every condition of a profile search. */
export function matchesTraits(u: UserState, where: readonly TraitCondition[], rules: EngineRules, options: EngineOptions, T: number): boolean {
  for (const c of where) {
    const v = anyTrait(u, c.trait, T, rules, options)
    if (v === null) return false
    const want = typeof v === 'number' && typeof c.value === 'string' ? Number(c.value) : c.value
    if (typeof v === 'boolean') {
      const b = c.value === 'true' || c.value === 1 ? true : c.value === 'false' || c.value === 0 ? false : null
      if (b === null || !(c.op === '=' ? v === b : c.op === '!=' ? v !== b : false)) return false
      continue
    }
    if (typeof v !== typeof want || (typeof want === 'number' && Number.isNaN(want))) return false
    const a = v as number | string
    const b = want as number | string
    const ok = c.op === '=' ? a === b : c.op === '!=' ? a !== b : c.op === '<' ? a < b : c.op === '<=' ? a <= b : c.op === '>' ? a > b : a >= b
    if (!ok) return false
  }
  return true
}
