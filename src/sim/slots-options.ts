/** Knobs of the slots workload; every field has a default so `{}` reproduces seed 000's run. */
export interface SlotsOptions {
  /** Users, ids "1".."N". */
  users?: number
  /** Spin attempts; an attempt that picks a capped user is skipped, as in the seed. */
  spins?: number
  /** Length of the time range that ends at `end`. */
  hours?: number
  seed?: number
  /** Epoch ms of the latest possible event. */
  end?: number
  /** 'time': sorted by ts; 'random': generation order, purchases then spins, like the seed writes them. */
  order?: SlotsOrder
}

export type SlotsOrder = 'time' | 'random'

export type ResolvedSlotsOptions = Required<SlotsOptions>

export const SLOTS_DEFAULTS: ResolvedSlotsOptions = {
  users: 5000,
  spins: 2_000_000,
  hours: 3,
  seed: 0,
  // A fixed instant rather than "now", so the default output is the same file every day.
  end: Date.UTC(2026, 10, 1, 12),
  order: 'time',
}

/** Sorting keys events by ms offset in a Uint32Array, so the range must stay under 2^32 ms (~49 days). */
export const MAX_HOURS = 1000

export function resolveSlotsOptions(options: SlotsOptions = {}): ResolvedSlotsOptions {
  const o: ResolvedSlotsOptions = { ...SLOTS_DEFAULTS }
  for (const [k, v] of Object.entries(options)) if (v !== undefined) Object.assign(o, { [k]: v })
  check('users', o.users, Number.isSafeInteger(o.users) && o.users >= 1 && o.users < 2 ** 32, 'a positive integer')
  check('spins', o.spins, Number.isSafeInteger(o.spins) && o.spins >= 0, 'a non-negative integer')
  check('hours', o.hours, Number.isFinite(o.hours) && o.hours > 0 && o.hours <= MAX_HOURS, `a number of hours in (0, ${MAX_HOURS}]`)
  check('seed', o.seed, Number.isInteger(o.seed) && o.seed >= 0 && o.seed < 2 ** 32, 'an integer from 0 to 4294967295')
  check('end', o.end, Number.isSafeInteger(o.end) && o.end > 0, 'a positive integer of epoch milliseconds')
  check('order', o.order, o.order === 'time' || o.order === 'random', '"time" or "random"')
  return o
}

function check(name: string, value: unknown, ok: boolean, what: string): void {
  if (!ok) throw new RangeError(`${name} must be ${what}, got ${JSON.stringify(value)}`)
}
