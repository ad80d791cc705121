import { checkOption } from '../check-option.ts'

/** Knobs of the lifecycle workload; `{}` is the documented default. */
export interface LifecycleOptions {
  /** Players, ids "u1".."uN". */
  users?: number
  /** Simulated days, the last of which ends at `end`. */
  days?: number
  /** Epoch ms of the last simulated instant: every event is before it. */
  end?: number
  seed?: number
}

export type ResolvedLifecycleOptions = Required<LifecycleOptions>

/**
 * Players' latent state is a few typed arrays (about 50 bytes each), so this bounds memory, not
 * time; it must stay under the 2^24 players a day's event record has room for (./day-buffer.ts).
 */
export const MAX_LIFECYCLE_USERS = 10_000_000
export const MAX_LIFECYCLE_DAYS = 3650

export const LIFECYCLE_DEFAULTS: ResolvedLifecycleOptions = {
  users: 2000,
  days: 45,
  // The library's default is a fixed instant, so `{}` gives the same events every day; the CLI's is now.
  end: Date.UTC(2026, 10, 1, 12),
  seed: 1,
}

export function resolveLifecycleOptions(options: LifecycleOptions = {}): ResolvedLifecycleOptions {
  const o: ResolvedLifecycleOptions = { ...LIFECYCLE_DEFAULTS }
  for (const [k, v] of Object.entries(options)) if (v !== undefined) Object.assign(o, { [k]: v })
  checkOption('users', o.users, Number.isSafeInteger(o.users) && o.users >= 1 && o.users <= MAX_LIFECYCLE_USERS, `an integer from 1 to ${MAX_LIFECYCLE_USERS}`)
  checkOption('days', o.days, Number.isSafeInteger(o.days) && o.days >= 1 && o.days <= MAX_LIFECYCLE_DAYS, `an integer from 1 to ${MAX_LIFECYCLE_DAYS}`)
  checkOption('end', o.end, Number.isSafeInteger(o.end) && o.end - o.days * 86_400_000 > 0, 'epoch milliseconds after the first simulated day starts')
  checkOption('seed', o.seed, Number.isInteger(o.seed) && o.seed >= 0 && o.seed < 2 ** 32, 'an integer from 0 to 4294967295')
  return o
}
