import type { EngineOptions } from './engine-options.ts'
import type { EngineRules } from './engine-rules.ts'
import { anyTrait } from './rule-env.ts'
import type { UserState } from './user-state.ts'

/**
 * The earliest moment after T at which one of the user's segments could flip with no event of
 * theirs (Infinity: none): a window sliding an event out, a `keep` running out, a since() threshold
 * passing, or the polling period of a since() form that cannot be read off the rule. Advances the
 * user's windows to T on the way and drops the ones left empty (PartitionEngine.schedule).
 */
export function nextChange(user: UserState, T: number, rules: EngineRules, options: EngineOptions): number {
  let next = Infinity
  const segments = rules.compiled.segments
  for (let i = 0; i < segments.length; i++) {
    const windows = rules.segmentWindows[i]!
    if (windows.length > 0) {
      const needed = user.isMember(i) || !rules.slideOnlyExits[i]
      for (const mi of windows) {
        const m = user.metrics[mi]
        if (m === undefined) continue
        m.advance(T)
        if (m.isEmpty()) user.metrics[mi] = undefined
        else if (needed || m.hasNegative) next = Math.min(next, m.nextChange())
      }
    }
    const keep = segments[i]!.keepMs
    if (keep > 0 && !Number.isNaN(user.falseSince[i]!)) next = Math.min(next, user.falseSince[i]! + keep)
    const deps = rules.timeDeps[i]!
    for (const th of deps.thresholds) {
      const base = anyTrait(user, th.trait, T, rules, options)
      if (typeof base === 'number' && base + th.offsetMs > T) next = Math.min(next, base + th.offsetMs)
    }
    if (deps.needsPolling) next = Math.min(next, T + options.sinceResolutionMs)
  }
  return next
}
