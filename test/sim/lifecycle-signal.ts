import type { RawEvent } from '../../src/sim/index.ts'

/** Support for test/sim/lifecycle.test.ts (not a test file itself): the planted signal, measured from the events alone. */

const DAY_MS = 86_400_000

/** What each player did on each day, as a model's SQL would see it: activity, purchases, the wallet at each day's end. */
export interface Histories {
  days: number
  users: number
  /** [user * days + day]: events that day. */
  events: Uint32Array
  purchases: Uint32Array
  /** The last player_wealth seen on or before the day, NaN before the player's first event. */
  wealthAtEnd: Float64Array
}

export function histories(events: Iterable<RawEvent>, users: number, days: number, start: number): Histories {
  const h: Histories = {
    days,
    users,
    events: new Uint32Array(users * days),
    purchases: new Uint32Array(users * days),
    wealthAtEnd: new Float64Array(users * days).fill(Number.NaN),
  }
  for (const e of events) {
    const u = Number(e.user_id.slice(1)) - 1
    const d = Math.floor((e.ts - start) / DAY_MS)
    const k = u * days + d
    h.events[k]!++
    if (e.event === 'purchase') h.purchases[k]!++
    h.wealthAtEnd[k] = e.player_wealth as number
  }
  // Carry each wallet forward over the days a player did not play.
  for (let u = 0; u < users; u++) for (let d = 1; d < days; d++) if (Number.isNaN(h.wealthAtEnd[u * days + d]!)) h.wealthAtEnd[u * days + d] = h.wealthAtEnd[u * days + d - 1]!
  return h
}

/** Sum of a per-day column over days [from, to). */
export function over(h: Histories, column: Uint32Array, u: number, from: number, to: number): number {
  let s = 0
  for (let d = from; d < to; d++) s += column[u * h.days + d]!
  return s
}

/** The wallet before `day` starts (at the end of day - 1). */
export const wealthBefore = (h: Histories, u: number, day: number): number => h.wealthAtEnd[u * h.days + day - 1]!

export interface Rate {
  n: number
  rate: number
}

export function rate(hits: number, n: number): Rate {
  return { n, rate: n === 0 ? 0 : hits / n }
}

/** Purchase habit: of players who bought in days [0, split) and those who did not, the share who buy in [split, split + 7). */
export function buyAgain(h: Histories, split: number): { buyers: Rate; others: Rate } {
  let buyers = 0
  let buyersAgain = 0
  let others = 0
  let othersBuy = 0
  for (let u = 0; u < h.users; u++) {
    const next = over(h, h.purchases, u, split, split + 7) > 0 ? 1 : 0
    if (over(h, h.purchases, u, 0, split) > 0) {
      buyers++
      buyersAgain += next
    } else {
      others++
      othersBuy += next
    }
  }
  return { buyers: rate(buyersAgain, buyers), others: rate(othersBuy, others) }
}

/** Churn: of players seen before day - 3, those inactive in the 3 days before `day` and those active, the share inactive in the 7 days from `day`. */
export function stayAway(h: Histories, day: number): { quiet: Rate; active: Rate } {
  let quiet = 0
  let quietStay = 0
  let active = 0
  let activeStop = 0
  for (let u = 0; u < h.users; u++) {
    if (over(h, h.events, u, 0, day - 3) === 0) continue
    const gone = over(h, h.events, u, day, day + 7) === 0 ? 1 : 0
    if (over(h, h.events, u, day - 3, day) === 0) {
      quiet++
      quietStay += gone
    } else {
      active++
      activeStop += gone
    }
  }
  return { quiet: rate(quietStay, quiet), active: rate(activeStop, active) }
}

/**
 * Wealth ahead: for players seen before `day` - `back`, the log change of the wallet over the `ahead`
 * days from `day` against its log change over the `back` days before. Returns their correlation and
 * how much a least-squares fit of log W(day + ahead) on log W(day) and the trend cuts the squared
 * error of carrying log W(day) forward (in-sample; two parameters against thousands of players).
 */
export function wealthTrend(h: Histories, day: number, back: number, ahead: number): { n: number; correlation: number; errorCut: number } {
  const trend: number[] = []
  const future: number[] = []
  for (let u = 0; u < h.users; u++) {
    const before = wealthBefore(h, u, day - back)
    if (Number.isNaN(before)) continue
    const now = Math.log(wealthBefore(h, u, day))
    trend.push(now - Math.log(before))
    future.push(Math.log(wealthBefore(h, u, day + ahead)) - now)
  }
  const n = trend.length
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length
  const mt = mean(trend)
  const mf = mean(future)
  let stf = 0
  let stt = 0
  let sff = 0
  for (let i = 0; i < n; i++) {
    stf += (trend[i]! - mt) * (future[i]! - mf)
    stt += (trend[i]! - mt) ** 2
    sff += (future[i]! - mf) ** 2
  }
  // Carrying forward predicts a change of 0; the fit predicts mf + slope·(trend − mt).
  const carry = future.reduce((s, f) => s + f * f, 0)
  const fitted = sff - (stf * stf) / stt
  return { n, correlation: stf / Math.sqrt(stt * sff), errorCut: 1 - fitted / carry }
}
