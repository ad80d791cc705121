export interface BackoffPolicy {
  /** Delay before the first retry. Default 250 ms. */
  baseMs: number
  /** The doubling stops here. Default 30 s. */
  maxMs: number
  /** ± this fraction of random spread, so receivers recovering from an outage are not hit in lockstep. Default 0.2. */
  jitter: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 250, maxMs: 30_000, jitter: 0.2 }

/** The nominal delay before retry number `attempt` (0-based): base · 2^attempt, capped. */
export function nominalDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30))
}

/** The delay with jitter: uniform in nominal · [1 − jitter, 1 + jitter], never above maxMs. */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const d = nominalDelay(attempt, policy)
  return Math.round(Math.min(policy.maxMs, d * (1 - policy.jitter + 2 * policy.jitter * random())))
}

/** Longest Retry-After honoured; a receiver asking for more is retried after this. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000

/** Retry-After as delay-seconds or an HTTP date, in ms from `now`; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null) return null
  const v = value.trim()
  if (/^\d+$/.test(v)) return Math.min(MAX_RETRY_AFTER_MS, Number(v) * 1000)
  const at = Date.parse(v)
  if (Number.isNaN(at)) return null
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - now))
}
