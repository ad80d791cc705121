import type { RawEvent } from '../raw-event.ts'
import { KIND_LEVEL_UP, KIND_PURCHASE, KIND_SESSION_START, KIND_SPIN, STRIDE, kindOf, playerOf, timeOf, type DayBuffer } from './day-buffer.ts'
import { lifecycleDays, type LifecycleDays } from './days.ts'
import { PURCHASE_PRICES } from './economy.ts'
import type { LifecycleOptions } from './options.ts'
import { DAY_MS } from './play-day.ts'

/** Player i's id: "u1".."uN", apart from the slots users ("1".."N") and the game's players ("p1"…) in one tenant. */
export const lifecycleUserId = (i: number): string => `u${i + 1}`

/**
 * One event as an object. Key order is the NDJSON writer's (./ndjson.ts), so JSON.stringify of this
 * is exactly the line the file holds.
 */
export function lifecycleEventAt(buf: DayBuffer, dayStart: number, n: number): RawEvent {
  const r = n * STRIDE
  const head = buf.rec[r]!
  const a = buf.rec[r + 1]!
  const user_id = lifecycleUserId(playerOf(head))
  const ts = dayStart + timeOf(head)
  const player_wealth = buf.rec[r + 3]!
  const kind = kindOf(head)
  switch (kind) {
    case KIND_SESSION_START: {
      const bonus = a
      return bonus > 0 ? { event: 'session_start', user_id, ts, bonus, player_wealth } : { event: 'session_start', user_id, ts, player_wealth }
    }
    case KIND_SPIN:
      return { event: 'spin', user_id, ts, cost: a, win: buf.rec[r + 2]!, player_wealth }
    case KIND_PURCHASE:
      return { event: 'purchase', user_id, ts, amount: PURCHASE_PRICES[a]!, currency: 'USD', player_wealth }
    case KIND_LEVEL_UP:
      // Text, as the game API's `level` column is (VARCHAR in the warehouse's events view).
      return { event: 'level_up', user_id, ts, level: String(a), player_wealth }
    default:
      throw new Error(`unknown event kind ${kind}`)
  }
}

/** The whole run as objects in time order, one day held at a time: for sending and for tests. */
export function* lifecycleEvents(options: LifecycleOptions = {}, run: LifecycleDays = lifecycleDays(options)): Generator<RawEvent> {
  for (const buf of run.days) {
    const dayStart = run.start + buf.day * DAY_MS
    for (let k = 0; k < buf.count; k++) yield lifecycleEventAt(buf, dayStart, buf.order[k]!)
  }
}
