import { checkOption } from '../check-option.ts'

/** Knobs of the clickstream workload (seed 004); `{}` is the documented default. */
export interface ClickstreamOptions {
  /** Partners (shops) sending traffic; each is a tenant when given its own API key. */
  partners?: number
  /** Visitors per partner. */
  users?: number
  /** Sessions open at once: their events interleave. */
  sessions?: number
  seed?: number
}

export type ResolvedClickstreamOptions = Required<ClickstreamOptions>

export const CLICKSTREAM_DEFAULTS: ResolvedClickstreamOptions = { partners: 3, users: 1000, sessions: 50, seed: 0 }

export function resolveClickstreamOptions(options: ClickstreamOptions = {}): ResolvedClickstreamOptions {
  const o: ResolvedClickstreamOptions = { ...CLICKSTREAM_DEFAULTS }
  for (const [k, v] of Object.entries(options)) if (v !== undefined) Object.assign(o, { [k]: v })
  checkOption('partners', o.partners, Number.isSafeInteger(o.partners) && o.partners >= 1 && o.partners <= 1000, 'an integer from 1 to 1000')
  checkOption('users', o.users, Number.isSafeInteger(o.users) && o.users >= 1 && o.users < 2 ** 32, 'a positive integer')
  checkOption('sessions', o.sessions, Number.isSafeInteger(o.sessions) && o.sessions >= 1 && o.sessions <= 100_000, 'an integer from 1 to 100000')
  checkOption('seed', o.seed, Number.isInteger(o.seed) && o.seed >= 0 && o.seed < 2 ** 32, 'an integer from 0 to 4294967295')
  return o
}
