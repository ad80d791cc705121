import type { Rng } from '../random.ts'
import type { DaySessions } from './day-sessions.ts'
import { KIND_PURCHASE, KIND_SESSION_START, KIND_SPIN, KIND_LEVEL_UP, type DayBuffer } from './day-buffer.ts'
import { BONUS, BONUS_BELOW, COINS_PER_DOLLAR, HEAVY_PRICE_WEIGHTS, OCCASIONAL_PRICE_WEIGHTS, PURCHASE_PRICES, betFor, spinWin, spinsForNextLevel } from './economy.ts'
import { HEAVY, activityOn, buyChance, type Players } from './players.ts'

export const DAY_MS = 86_400_000
/** At most this many sessions a day, each in its own slot of the day, so a player's sessions never overlap. */
export const MAX_SESSIONS = 6
/** Room kept at the end of a session's slot: a session lasts well under this (MAX_SPINS spins at most 15 s apart, one purchase). */
const SESSION_ROOM_MS = 30 * 60_000
/** Spins per session: 1 + geometric with mean SPINS_MEAN - 1, capped. */
export const SPINS_MEAN = 3
export const MAX_SPINS = 60

/**
 * Plays one day into `out`: first who plays and when their sessions start, then the sessions in
 * order of start (./day-sessions.ts says why), each player's wallet carried from one to the next.
 */
export function playDay(p: Players, day: number, rng: Rng, sessions: DaySessions, out: DayBuffer): void {
  sessions.reset()
  for (let i = 0; i < p.count; i++) {
    const chance = activityOn(p, i, day)
    if (chance === 0 || !rng.chance(chance)) continue
    const n = Math.min(MAX_SESSIONS, 1 + poisson(rng, p.engagement[i]! - 1))
    const slot = Math.floor(DAY_MS / n)
    for (let s = 0; s < n; s++) sessions.push(s * slot + rng.below(slot - SESSION_ROOM_MS), i)
  }
  out.reset(day)
  const order = sessions.byStart()
  for (let k = 0; k < order.length; k++) {
    const j = order[k]!
    playSession(p, sessions.player[j]!, sessions.start[j]!, rng, out)
  }
}

function playSession(p: Players, i: number, start: number, rng: Rng, out: DayBuffer): void {
  let t = start
  let w = p.wealth[i]!
  const bonus = w < BONUS_BELOW ? BONUS : 0
  w += bonus
  out.push(t, i, KIND_SESSION_START, bonus, 0, w)
  const spins = Math.min(MAX_SPINS, 1 + geometric(rng, SPINS_MEAN - 1))
  // Whether this session has a purchase, and after which spin.
  const buyAfter = rng.chance(buyChance(p, i, w)) ? rng.below(spins) : -1
  const drift = p.drift[i]!
  const fraction = p.betFraction[i]!
  for (let k = 0; k < spins && w > 0; k++) {
    t += 3000 + rng.below(12_000)
    const bet = Math.min(w, betFor(w, fraction))
    const win = spinWin(rng, bet, drift)
    w += win - bet
    out.push(t, i, KIND_SPIN, bet, win, w)
    const done = ++p.spins[i]!
    if (done >= spinsForNextLevel(p.level[i]!)) {
      t += 500
      out.push(t, i, KIND_LEVEL_UP, ++p.level[i]!, 0, w)
    }
    if (k === buyAfter) {
      t += 20_000 + rng.below(40_000)
      const price = rng.weighted(PRICE_INDICES, p.spender[i] === HEAVY ? HEAVY_PRICE_WEIGHTS : OCCASIONAL_PRICE_WEIGHTS)
      w += Math.round(PURCHASE_PRICES[price]! * COINS_PER_DOLLAR)
      p.purchases[i]!++
      out.push(t, i, KIND_PURCHASE, price, 0, w)
    }
  }
  p.wealth[i] = w
}

const PRICE_INDICES = PURCHASE_PRICES.map((_, i) => i)

/** Poisson by Knuth's method: fine for the small means here (under 2). */
function poisson(rng: Rng, mean: number): number {
  const limit = Math.exp(-mean)
  let k = 0
  for (let prod = rng.float(); prod > limit; prod *= rng.float()) k++
  return k
}

/** Failures before a success with mean `mean`: 0, 1, 2, … */
function geometric(rng: Rng, mean: number): number {
  const q = mean / (mean + 1)
  return Math.floor(Math.log(1 - rng.float()) / Math.log(q))
}
