import type { FixtureEvent } from '../warehouse/fixtures.ts'
import { mulberry32 } from '../support/prng.ts'

export const DAY = 86_400_000

/**
 * Player histories with planted signal, small and fast, for the pipeline's tests (the lifecycle
 * simulator is the full one): an activity rate per player, a third fading from a random day on
 * (half-life 3 days), a quarter paying with a habit (each purchase makes the next likelier), and
 * wealth drifting per player. Seeded: the same seed gives the same events.
 */
export function playerHistories(opts: { users: number; days: number; endDay: number; seed: number; tenant?: string }): FixtureEvent[] {
  const rnd = mulberry32(opts.seed)
  const out: FixtureEvent[] = []
  const startDay = opts.endDay - opts.days
  for (let u = 0; u < opts.users; u++) {
    const user = `p${u}`
    const rate = 0.25 + rnd() * 0.7
    const fadeFrom = rnd() < 0.35 ? Math.floor(rnd() * opts.days) : Infinity
    let buy = rnd() < 0.25 ? 0.05 + rnd() * 0.2 : 0
    let wealth = 500 + rnd() * 1000
    const drift = (rnd() - 0.45) * 60
    for (let d = 0; d < opts.days; d++) {
      const p = d > fadeFrom ? rate * 0.5 ** ((d - fadeFrom) / 3) : rate
      if (rnd() >= p) continue
      let t = (startDay + d) * DAY + Math.floor(rnd() * 20 * 3_600_000)
      const spins = 1 + Math.floor(rnd() * 4)
      out.push({ event: 'login', user_id: user, tenant: opts.tenant, ts: new Date(t).toISOString(), properties: { player_wealth: Math.round(wealth) } })
      for (let s = 0; s < spins; s++) {
        t += 60_000
        wealth = Math.max(0, wealth + drift + (rnd() - 0.5) * 40)
        out.push({ event: 'spin', user_id: user, tenant: opts.tenant, ts: new Date(t).toISOString(), properties: { player_wealth: Math.round(wealth) } })
      }
      if (buy > 0 && rnd() < buy) {
        t += 60_000
        wealth += 300
        buy = Math.min(0.8, buy * 1.3)
        out.push({ event: 'purchase', user_id: user, tenant: opts.tenant, ts: new Date(t).toISOString(), properties: { amount: 4.99, player_wealth: Math.round(wealth) } })
      }
    }
  }
  return out
}
