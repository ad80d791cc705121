import { Rng } from '../random.ts'
import { DayBuffer } from './day-buffer.ts'
import { DaySessions } from './day-sessions.ts'
import { resolveLifecycleOptions, type LifecycleOptions, type ResolvedLifecycleOptions } from './options.ts'
import { DAY_MS, playDay } from './play-day.ts'
import { makePlayers } from './players.ts'

/** The stream that decides what happens on each day (the players' traits have their own, ./players.ts). */
const PLAY = 1

export interface LifecycleDays {
  options: ResolvedLifecycleOptions
  /** Epoch ms the first day starts: `end` minus `days` days. */
  start: number
  /**
   * The days in order, each sorted by time. The same buffer is yielded every time and refilled for
   * the next day, so only one day's events are ever held.
   */
  days: Generator<DayBuffer>
}

/** Simulates the run day by day: the players are made once, then each day plays on from the last. */
export function lifecycleDays(options: LifecycleOptions = {}): LifecycleDays {
  const o = resolveLifecycleOptions(options)
  return { options: o, start: o.end - o.days * DAY_MS, days: play(o) }
}

function* play(o: ResolvedLifecycleOptions): Generator<DayBuffer> {
  const players = makePlayers(o.users, o.days, o.seed)
  const rng = new Rng(o.seed, PLAY)
  const buf = new DayBuffer()
  const sessions = new DaySessions()
  for (let d = 0; d < o.days; d++) {
    playDay(players, d, rng, sessions, buf)
    buf.sort()
    yield buf
  }
}
