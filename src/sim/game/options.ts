import { checkOption } from '../check-option.ts'

/** Knobs of the game workload (seeds 002/003); `{}` is the documented default. */
export interface GameOptions {
  /** Players playing at any time; a player who runs out of money is replaced by a new one. */
  players?: number
  /** Players in a session at once: their requests interleave. */
  sessions?: number
  seed?: number
}

export type ResolvedGameOptions = Required<GameOptions>

export const GAME_DEFAULTS: ResolvedGameOptions = { players: 200, sessions: 20, seed: 0 }

export function resolveGameOptions(options: GameOptions = {}): ResolvedGameOptions {
  const o: ResolvedGameOptions = { ...GAME_DEFAULTS }
  for (const [k, v] of Object.entries(options)) if (v !== undefined) Object.assign(o, { [k]: v })
  checkOption('players', o.players, Number.isSafeInteger(o.players) && o.players >= 1 && o.players <= 10_000_000, 'an integer from 1 to 10000000')
  checkOption('sessions', o.sessions, Number.isSafeInteger(o.sessions) && o.sessions >= 1 && o.sessions <= 100_000, 'an integer from 1 to 100000')
  checkOption('seed', o.seed, Number.isInteger(o.seed) && o.seed >= 0 && o.seed < 2 ** 32, 'an integer from 0 to 4294967295')
  return o
}
