import { childExprs, type Expr } from '../rules/index.ts'

/**
 * `since(last_seen) > 7d` becomes true at last_seen + 7d with no event at all. Reading such
 * thresholds off the rule lets the engine set one timer per user instead of polling.
 */
export interface TimeThreshold {
  /** A timestamp trait: built in, or declared in the rules file. */
  trait: string
  offsetMs: number
}

export interface TimeDependence {
  thresholds: TimeThreshold[]
  /** A since() in a form whose flip time is not a constant offset: re-evaluate periodically. */
  needsPolling: boolean
}

export function timeDependence(expr: Expr, newUserMs: number): TimeDependence {
  const out: TimeDependence = { thresholds: [], needsPolling: false }
  walk(expr, out, newUserMs)
  return out
}

function walk(e: Expr, out: TimeDependence, newUserMs: number): void {
  if (e.kind === 'compare') {
    const since = e.left.kind === 'since' ? e.left : e.right.kind === 'since' ? e.right : null
    if (since) {
      const other = since === e.left ? e.right : e.left
      const ms = other.kind === 'duration' ? other.ms : other.kind === 'number' ? other.value : null
      if (ms === null) out.needsPolling = true
      // The comparison flips at trait + ms (for >=, <) or one millisecond later (for >, <=).
      else out.thresholds.push({ trait: since.trait, offsetMs: ms }, { trait: since.trait, offsetMs: ms + 1 })
      return
    }
  }
  if (e.kind === 'since') out.needsPolling = true
  if (e.kind === 'trait' && e.name === 'is_new') out.thresholds.push({ trait: 'first_seen', offsetMs: newUserMs })
  for (const child of childExprs(e)) walk(child, out, newUserMs)
}
