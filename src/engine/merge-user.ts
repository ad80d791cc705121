import type { EngineRules } from './engine-rules.ts'
import type { ProfileProperty } from '../rules/index.ts'
import type { UserState } from './user-state.ts'
import { mergePrediction } from './predicted-traits.ts'

/**
 * Adds `from`'s history to `into`, as if every event of `from` had arrived under `into`'s id
 * (docs/identity.md, step 3): counts and sums add, first_seen is the earlier and last_seen the
 * later, profile properties and declared traits keep the value of the latest event time, the
 * prediction scored later is kept (the person's own at an equal time), and each
 * aggregate merges by its own rule (windows bucket by bucket at the later of the two clocks,
 * distinct values by their latest bucket). Memberships are not merged: the engine evaluates the
 * rules for the merged user and emits the entries and exits that follow. `from` is consumed.
 */
export function mergeUser(into: UserState, from: UserState, rules: EngineRules): void {
  if (from.firstSeen < into.firstSeen) into.firstSeen = from.firstSeen
  if (from.lastSeen > into.lastSeen) into.lastSeen = from.lastSeen
  into.eventCount += from.eventCount
  into.purchaseMicros += from.purchaseMicros
  from.counts.forEach((n, id) => {
    if (n !== undefined) into.counts[id] = (into.counts[id] ?? 0) + n
  })
  for (const [k, v] of Object.entries(from.profile) as Array<[ProfileProperty, string]>) {
    into.setProfile(k, v, from.profileAt?.[k] ?? from.lastSeen)
  }
  if (from.custom !== null) {
    for (const [name, v] of Object.entries(from.custom)) into.setCustom(name, v, from.customAt?.[name] ?? from.lastSeen)
  }
  for (let i = 0; i < rules.metrics.length; i++) {
    const theirs = from.metrics[i]
    if (theirs === undefined) continue
    const ours = into.metrics[i]
    if (ours === undefined) into.metrics[i] = theirs
    else ours.merge(theirs)
  }
  mergePrediction(into, from)
  into.negative ||= from.negative
}
