import { Rng } from '../random.ts'

/*
 * Each player's latent state, in typed arrays so a million players cost about 50 MB. The draws
 * below are the planted signal (docs/simulators.md, "lifecycle"): change a number here and there.
 */

export const NON_PAYER = 0
export const OCCASIONAL = 1
export const HEAVY = 2

/** Share of players who start fading on some day of the run. */
export const FADE_SHARE = 0.35
/** Share of faders who stop entirely once their activity has fallen below 1/8 of what it was. */
export const QUIT_SHARE = 0.7
export const QUIT_BELOW = 0.125
/** The others keep playing at a tenth of their old activity: lapsed players who drop by now and then. */
export const LINGER = 0.1
/** Spender types: 75% never pay, 20% occasionally, 5% heavily. */
export const SPENDER_SHARES = [0.75, 0.2, 0.05] as const
/** Each earlier purchase multiplies the purchase probability by 1 + HABIT, up to HABIT_CAP purchases (4× at most). */
export const HABIT = 0.5
export const HABIT_CAP = 6
export const MAX_BUY_CHANCE = 0.6

export interface Players {
  count: number
  /** Probability of playing on a day before any fade: 0.04 + 0.5·u² for a uniform u, mean 0.21. */
  activity: Float32Array
  /** Expected sessions on a day played: 1 + 0.6·(0.6·u + 0.4·v), 1 to 1.6, higher for more active players (the same u). */
  engagement: Float32Array
  /** The day fading starts, or -1 for players who never fade. */
  fadeDay: Int16Array
  /** Days for the activity to halve once fading: 1 to 6, log-uniform. */
  halfLife: Float32Array
  /** 1 when a fader stops entirely at QUIT_BELOW, 0 when they linger. */
  quits: Uint8Array
  spender: Uint8Array
  /** Purchase probability per session before any habit. */
  buyBase: Float32Array
  purchases: Uint16Array
  /** Expected return per spin, as a share of the bet: normal(-0.03, 0.2) clipped to ±0.5. */
  drift: Float32Array
  /** The share of the wallet bet on a spin: 2% to 6%. */
  betFraction: Float32Array
  /** Coins, an integer: starts at 500 to 2,000 (log-uniform around 1,000). */
  wealth: Float64Array
  spins: Uint32Array
  level: Uint16Array
}

// The latent draws have a stream of their own, so how days play out never shifts who the players are.
const TRAITS = 2

export function makePlayers(count: number, days: number, seed: number): Players {
  const rng = new Rng(seed, TRAITS)
  const p: Players = {
    count,
    activity: new Float32Array(count),
    engagement: new Float32Array(count),
    fadeDay: new Int16Array(count),
    halfLife: new Float32Array(count),
    quits: new Uint8Array(count),
    spender: new Uint8Array(count),
    buyBase: new Float32Array(count),
    purchases: new Uint16Array(count),
    drift: new Float32Array(count),
    betFraction: new Float32Array(count),
    wealth: new Float64Array(count),
    spins: new Uint32Array(count),
    level: new Uint16Array(count),
  }
  for (let i = 0; i < count; i++) {
    const u = rng.float()
    p.activity[i] = 0.04 + 0.5 * u * u
    p.engagement[i] = 1 + 0.6 * (0.6 * u + 0.4 * rng.float())
    const fades = rng.chance(FADE_SHARE)
    p.fadeDay[i] = fades ? rng.below(days) : -1
    p.halfLife[i] = 6 ** rng.float()
    p.quits[i] = rng.chance(QUIT_SHARE) ? 1 : 0
    const s = rng.float()
    const type = s < SPENDER_SHARES[0] ? NON_PAYER : s < SPENDER_SHARES[0] + SPENDER_SHARES[1] ? OCCASIONAL : HEAVY
    p.spender[i] = type
    p.buyBase[i] = type === NON_PAYER ? 0 : type === OCCASIONAL ? 0.02 + 0.04 * rng.float() : 0.1 + 0.15 * rng.float()
    p.drift[i] = Math.max(-0.5, Math.min(0.5, -0.03 + 0.2 * gaussian(rng)))
    p.betFraction[i] = 0.02 + 0.04 * rng.float()
    p.wealth[i] = Math.round(1000 * 2 ** (2 * rng.float() - 1))
    p.level[i] = 1
  }
  return p
}

/** The probability that player `i` plays on `day`: their activity, times the fade once it has begun. */
export function activityOn(p: Players, i: number, day: number): number {
  const a = p.activity[i]!
  const start = p.fadeDay[i]!
  if (start < 0 || day < start) return a
  const left = 0.5 ** ((day - start) / p.halfLife[i]!)
  if (left >= QUIT_BELOW) return a * left
  return p.quits[i] === 1 ? 0 : a * Math.max(left, LINGER)
}

/** Purchase probability for a session: habit from earlier purchases, doubled when the wallet is nearly empty. */
export function buyChance(p: Players, i: number, wealth: number): number {
  const base = p.buyBase[i]!
  if (base === 0) return 0
  const habit = 1 + HABIT * Math.min(p.purchases[i]!, HABIT_CAP)
  return Math.min(MAX_BUY_CHANCE, base * habit * (wealth < 200 ? 2 : 1))
}

/** A standard normal draw (Box–Muller). */
export function gaussian(rng: Rng): number {
  const u = 1 - rng.float()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.float())
}
