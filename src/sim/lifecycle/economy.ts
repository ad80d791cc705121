import type { Rng } from '../random.ts'

/*
 * The game's economy: what a spin costs and pays, what purchases cost and give, when a player
 * levels up. Constants are exported so docs/simulators.md and the tests can name the same numbers.
 */

/** Coins a dollar buys: a $0.99 pack is about a new player's whole wallet. */
export const COINS_PER_DOLLAR = 200

/** Price points in dollars; occasional spenders buy from the cheap end, heavy ones from the dear end. */
export const PURCHASE_PRICES = [0.99, 1.99, 4.99, 9.99, 19.99, 49.99] as const
export const OCCASIONAL_PRICE_WEIGHTS = [4, 3, 2, 1, 0, 0] as const
export const HEAVY_PRICE_WEIGHTS = [0, 0, 3, 3, 2, 1] as const

/**
 * A spin pays bet × multiplier × (1 + drift) / mean multiplier: the table averages to the bet, so a
 * player's expected return per spin is exactly their drift. Its spread (about 1.05 bets) is the
 * noise a model has to see through.
 */
export const MULTIPLIERS: readonly number[] = [0, 0.5, 1, 1.5, 2]
export const MULTIPLIER_WEIGHTS: readonly number[] = [0.15, 0.2, 0.3, 0.2, 0.15]
const MEAN_MULTIPLIER = MULTIPLIERS.reduce((s, m, i) => s + m * MULTIPLIER_WEIGHTS[i]!, 0)
const CUMULATIVE = MULTIPLIER_WEIGHTS.map((_, i) => MULTIPLIER_WEIGHTS.slice(0, i + 1).reduce((s, w) => s + w, 0))

export function spinWin(rng: Rng, bet: number, drift: number): number {
  const u = rng.float()
  let i = 0
  while (i < CUMULATIVE.length - 1 && u >= CUMULATIVE[i]!) i++
  return Math.round((bet * MULTIPLIERS[i]! * (1 + drift)) / MEAN_MULTIPLIER)
}

/** The largest 1-2-5 step (1, 2, 5, 10, 20, …) at most `fraction` of the wallet, and at least 1 coin. */
export function betFor(wealth: number, fraction: number): number {
  const x = wealth * fraction
  if (x < 2) return 1
  const magnitude = 10 ** Math.floor(Math.log10(x))
  const r = x / magnitude
  return (r >= 5 ? 5 : r >= 2 ? 2 : 1) * magnitude
}

/** A wallet below this at a session's start is topped up by BONUS coins (a daily bonus), so no player is stuck at 0. */
export const BONUS_BELOW = 100
export const BONUS = 500

/** Level L + 1 is reached at 5·L² spins in all: level 2 at 5 spins, 3 at 20, 5 at 80, 10 at 405. */
export function spinsForNextLevel(level: number): number {
  return 5 * level * level
}
