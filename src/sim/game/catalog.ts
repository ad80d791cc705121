/**
 * What seeds 002 and 003 bought and joined, with their prices, and the internet providers seed 002
 * read from Host headers (`user46.earthlink.com`).
 */

export const PROVIDERS: readonly string[] = ['comcast', 'att', 'google', 'frontier', 'cox', 'earthlink']

/** `POST /game/buy/:kind` with a type and a cost (seed 003). */
export const SHOP: ReadonlyArray<{ kind: string; type: string; cost: number }> = [
  { kind: 'sword', type: 'cutlass', cost: 777 },
  { kind: 'sword', type: 'saber', cost: 999 },
  { kind: 'sword', type: 'broadsword', cost: 1034 },
  { kind: 'sword', type: 'longsword', cost: 10000 },
  { kind: 'spell', type: 'charm', cost: 4999 },
  { kind: 'spell', type: 'fireball', cost: 150 },
  { kind: 'potion', type: 'potion', cost: 50 },
  { kind: 'knife', type: 'dagger', cost: 55 },
]

/** `POST /game/purchase/:item_name` without a cost: the list price applies (seed 002; src/game/prices.ts). */
export const LIST_ITEMS: readonly string[] = ['sword', 'shield', 'helmet', 'knife', 'gauntlet']

/** The simulator's copy of the Game API's list prices, so it can predict refusals. */
export const LIST_PRICE: Readonly<Record<string, number>> = { sword: 100, shield: 80, helmet: 50, knife: 20, gauntlet: 40 }

export const ORGS: readonly string[] = ['Magician Guild', 'Golds Gym', 'santas shop', 'team ABCD', 'team BLAH', 'soldiers', 'magicians']
export const LEVELS: readonly string[] = ['novice', 'accolyte', 'journeyman', 'masterofarms']
/** Guilds charge to join (seed 003: 99 and 9999); teams are free. */
export const GUILD_FEES: readonly number[] = [0, 99, 500, 9999]

/** Starting wealth: the API's default and seed 003's players. */
export const WEALTH: readonly number[] = [1000, 12345, 98712, 1234500]
export const WEALTH_WEIGHTS: readonly number[] = [3, 3, 2, 1]

export const NAMES: readonly string[] = ['dirk', 'merly', 'ana', 'kofi', 'yuki', 'lars', 'priya', 'omar', 'zoe', 'ivan']

/** seed 003 drove the API with curl (forms) and ApacheBench (JSON bodies). */
export const FORM_AGENT = 'curl/7.68.0'
export const JSON_AGENT = 'ApacheBench/2.3'
