import type { EngineOptions } from './engine-options.ts'
import type { EngineRules } from './engine-rules.ts'
import { anyTrait, type UserEnv } from './rule-env.ts'
import type { UserState } from './user-state.ts'

/**
 * The earliest moment after T at which one of the user's segments could flip with no event of
 * theirs (Infinity: none): a window sliding an event out, a `keep` running out, a since() threshold
 * passing, or the polling period of a since() form that cannot be read off the rule. Advances the
 * user's windows to T on the way and drops the ones left empty (PartitionEngine.schedule).
 */
export function nextChange(user: UserState, T: number, rules: EngineRules, options: EngineOptions, env: UserEnv): number {
  let next = Infinity
  const segments = rules.compiled.segments
  env.user = user
  env.now = T
  for (let i = 0; i < segments.length; i++) {
    const windows = rules.segmentWindows[i]!
    const deps = rules.timeDeps[i]!
    const member = user.isMember(i)
    // A non-member kept out by a part of the rule that time cannot make true needs no timer for
    // this segment (a negative value sliding out could raise a sum: not then). Looked at only
    // where a non-member would get a timer otherwise: a rule with time thresholds or polling, or
    // whose windows sliding could let users in.
    const timed = deps.thresholds.length > 0 || deps.needsPolling || (windows.length > 0 && !rules.slideOnlyExits[i])
    const closed = timed && !member && !user.negative && gateClosed(rules.entryGates[i]!, env)
    if (windows.length > 0) {
      const needed = !closed && (member || !rules.slideOnlyExits[i])
      for (const mi of windows) {
        const m = user.metrics[mi]
        if (m === undefined) continue
        m.advance(T)
        if (m.isEmpty()) user.metrics[mi] = undefined
        else if (needed || m.hasNegative) next = Math.min(next, m.nextChange())
      }
    }
    if (closed) continue
    const keep = segments[i]!.keepMs
    if (keep > 0 && !Number.isNaN(user.falseSince[i]!)) next = Math.min(next, user.falseSince[i]! + keep)
    for (const th of deps.thresholds) {
      const base = anyTrait(user, th.trait, T, rules, options)
      if (typeof base === 'number' && base + th.offsetMs > T) next = Math.min(next, base + th.offsetMs)
    }
    if (deps.needsPolling) next = Math.min(next, T + options.sinceResolutionMs)
  }
  return next
}

function gateClosed(gates: ReadonlyArray<(env: UserEnv) => boolean>, env: UserEnv): boolean {
  for (let g = 0; g < gates.length; g++) if (!gates[g]!(env)) return true
  return false
}
