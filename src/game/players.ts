import type { PlayerRecord, PlayerUpdate } from '../players/player-store.ts'
import type { BuyRequest, JoinRequest } from './requests.ts'

/** What the API returns for a player: every field but the password hash, listed so a new field is not leaked by default. */
export interface PublicPlayer {
  id: string
  name: string
  wealth: number
  health: number
  created: number
  inventory: PlayerRecord['inventory']
  affiliations: PlayerRecord['affiliations']
  version: number
}

export function publicPlayer(p: PlayerRecord): PublicPlayer {
  return { id: p.id, name: p.name, wealth: p.wealth, health: p.health, created: p.created, inventory: p.inventory, affiliations: p.affiliations, version: p.version }
}

export type BuyStatus = 'approved_purchase' | 'insufficient_funds'
export type JoinStatus = 'approved_join' | 'insufficient_funds' | 'already_member'

/** The outcome of an action and the player as it stands after it (unchanged when refused). */
export interface Outcome<S extends string> {
  status: S
  player: PlayerRecord
  /** When the store's transaction decided, epoch ms: the event's time. */
  at: number
}

/** Money in cents, so 0.1 + 0.2 never leaves a player with 0.30000000000000004. */
const cents = (x: number): number => Math.round(x * 100)
const minus = (wealth: number, cost: number): number => (cents(wealth) - cents(cost)) / 100

/** Runs inside the store's write transaction (`updatePlayer`): it sees the wealth the previous purchase left. */
export function decideBuy(current: PlayerRecord, req: BuyRequest, now: number): PlayerUpdate<Outcome<BuyStatus>> {
  if (cents(current.wealth) < cents(req.cost)) return { refuse: { status: 'insufficient_funds', player: current, at: now } }
  const write = spend(current, req.cost, { inventory: [...current.inventory, { kind: req.kind, type: req.type, cost: req.cost, bought_at: now }] })
  return { write, result: { status: 'approved_purchase', player: write, at: now } }
}

/** Joining an org the player is already in is refused: seed 003 charged twice and listed the guild twice. */
export function decideJoin(current: PlayerRecord, req: JoinRequest, now: number): PlayerUpdate<Outcome<JoinStatus>> {
  if (current.affiliations.some((a) => a.kind === req.kind && a.org === req.org)) return { refuse: { status: 'already_member', player: current, at: now } }
  if (cents(current.wealth) < cents(req.cost)) return { refuse: { status: 'insufficient_funds', player: current, at: now } }
  const write = spend(current, req.cost, { affiliations: [...current.affiliations, { kind: req.kind, org: req.org, level: req.level, joined_at: now }] })
  return { write, result: { status: 'approved_join', player: write, at: now } }
}

/** The player after paying `cost` for `change`. The store sets the same version; the outcome carries the record as written. */
function spend(current: PlayerRecord, cost: number, change: Partial<PlayerRecord>): PlayerRecord {
  return { ...current, ...change, wealth: minus(current.wealth, cost), version: current.version + 1 }
}
