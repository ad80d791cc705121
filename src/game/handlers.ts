import type { IncomingHttpHeaders } from 'node:http'
import type { JsonValue } from '../events/index.ts'
import { uuid7 } from '../events/uuid7.ts'
import type { PlayerRecord, PlayerStore } from '../state/state-store.ts'
import { GameError } from './errors.ts'
import { emitGameEvent, gameEvent, GAME_EVENTS, requestInfo, type EventSink } from './events.ts'
import { hashPassword, verifyPassword } from './password.ts'
import { decideBuy, decideJoin, publicPlayer } from './players.ts'
import { DEFAULT_HEALTH, parseBuy, parseJoin, parseLogin, parseRegister, type PlayerRef } from './requests.ts'

/**
 * The game actions, free of HTTP: each parses its body, applies the action atomically in the
 * player store, writes ONE event to the log (durable before it returns) and answers. A refusal the
 * player caused (insufficient funds, wrong password) is still an action: its event is written,
 * then the GameError is thrown.
 */
export interface GameDeps extends EventSink {
  store: PlayerStore
}

export interface GameCall {
  /** The API key's tenant: players live in it. */
  tenant: string
  body: unknown
  headers: IncomingHttpHeaders
}

export interface GameAnswer {
  status: number
  body: Record<string, unknown>
}

export async function register(deps: GameDeps, call: GameCall): Promise<GameAnswer> {
  const req = parseRegister(call.body)
  const { store } = deps
  // Checked before hashing so a duplicate costs no scrypt; createPlayer re-checks the name atomically.
  if ((await store.getPlayerByName(call.tenant, req.name)) !== null) throw duplicateName(req.name)
  // The store re-checks both atomically; this early check only saves a scrypt.
  if (req.id !== undefined && (await store.getPlayer(call.tenant, req.id)) !== null) {
    throw new GameError(409, 'duplicate_id', `a player with id "${req.id}" already exists`, 'id')
  }
  const now = Date.now()
  const player: PlayerRecord = {
    id: req.id ?? uuid7(now),
    tenant: call.tenant,
    name: req.name,
    password_hash: await hashPassword(req.password),
    wealth: req.wealth,
    health: DEFAULT_HEALTH,
    created: now,
    inventory: [],
    affiliations: [],
    version: 1,
  }
  const created = await store.createPlayer(player)
  if (created === 'duplicate_name') throw duplicateName(req.name)
  if (created === 'duplicate_id') throw new GameError(409, 'duplicate_id', `a player with id "${player.id}" already exists`, 'id')
  await record(deps, call, GAME_EVENTS.created, player, {}, now, true)
  return { status: 201, body: { player: publicPlayer(player) } }
}

export async function login(deps: GameDeps, call: GameCall): Promise<GameAnswer> {
  const req = parseLogin(call.body)
  const player = await findPlayer(deps.store, call.tenant, req.player)
  const ok = await verifyPassword(req.password, player.password_hash)
  await record(deps, call, GAME_EVENTS.login, player, { status: ok ? 'ok' : 'wrong_password' }, Date.now(), false)
  if (!ok) throw new GameError(401, 'wrong_password', 'wrong password', 'password')
  return { status: 200, body: { player: publicPlayer(player) } }
}

export async function buy(deps: GameDeps, call: GameCall, kind: string): Promise<GameAnswer> {
  const req = parseBuy(kind, call.body)
  const found = await findPlayer(deps.store, call.tenant, req.player)
  const outcome = await deps.store.updatePlayer(call.tenant, found.id, (current) => decideBuy(current, req, Date.now()))
  if (outcome === null) throw unknownPlayer(req.player)
  const approved = outcome.status === 'approved_purchase'
  const action: Record<string, JsonValue> = { kind: req.kind, type: req.type, cost: req.cost, status: outcome.status }
  // `amount` is what the engine's total_purchases trait sums over `purchase` events: paid purchases only.
  if (approved) action.amount = req.cost
  await record(deps, call, GAME_EVENTS.purchase, outcome.player, action, outcome.at, approved)
  if (!approved) throw insufficientFunds(outcome.player, req.cost)
  return { status: 200, body: { status: outcome.status, item: { kind: req.kind, type: req.type, cost: req.cost }, player: publicPlayer(outcome.player) } }
}

export async function join(deps: GameDeps, call: GameCall, kind: string): Promise<GameAnswer> {
  const req = parseJoin(kind, call.body)
  const found = await findPlayer(deps.store, call.tenant, req.player)
  const outcome = await deps.store.updatePlayer(call.tenant, found.id, (current) => decideJoin(current, req, Date.now()))
  if (outcome === null) throw unknownPlayer(req.player)
  const approved = outcome.status === 'approved_join'
  const name = req.kind === 'guild' ? GAME_EVENTS.joinGuild : GAME_EVENTS.joinTeam
  await record(deps, call, name, outcome.player, { kind: req.kind, org: req.org, level: req.level, cost: req.cost, status: outcome.status }, outcome.at, approved)
  if (outcome.status === 'insufficient_funds') throw insufficientFunds(outcome.player, req.cost)
  if (outcome.status === 'already_member') throw new GameError(409, 'already_member', `the player is already in ${req.kind} "${req.org}"`, 'org')
  const affiliation = outcome.player.affiliations.at(-1)
  return { status: 200, body: { status: outcome.status, affiliation, player: publicPlayer(outcome.player) } }
}

/** GET: by id, or by name when `by` says so. No event: reads are not player actions. */
export async function lookup(deps: GameDeps, tenant: string, ref: PlayerRef): Promise<GameAnswer> {
  return { status: 200, body: { player: publicPlayer(await findPlayer(deps.store, tenant, ref)) } }
}

/** `player` may be an id or a name: the id wins, so a name that equals another player's id reaches that player. */
async function findPlayer(store: PlayerStore, tenant: string, ref: PlayerRef): Promise<PlayerRecord> {
  const byId = ref.by === 'name' ? null : await store.getPlayer(tenant, ref.value)
  const player = byId ?? (ref.by === 'id' ? null : await store.getPlayerByName(tenant, ref.value))
  if (player === null) throw unknownPlayer(ref)
  return player
}

async function record(deps: GameDeps, call: GameCall, name: string, player: PlayerRecord, action: Record<string, JsonValue>, at: number, applied: boolean): Promise<void> {
  try {
    await emitGameEvent(deps, call.tenant, gameEvent(name, player, action, requestInfo(call.headers), at))
  } catch (err) {
    // The store and the log are not one transaction: say plainly whether the action itself stuck.
    const what = applied ? 'the action was applied but its event could not be written to the log' : 'the event could not be written to the log; nothing was applied'
    throw new GameError(500, 'event_not_recorded', what, undefined, { cause: err })
  }
}

const duplicateName = (name: string) => new GameError(409, 'duplicate_name', `a player named "${name}" already exists`, 'name')

const unknownPlayer = (ref: PlayerRef) =>
  new GameError(404, 'unknown_player', `no player ${ref.by === 'name' ? 'named' : ref.by === 'id' ? 'with id' : 'with id or name'} "${ref.value}"`, 'player')

const insufficientFunds = (player: PlayerRecord, cost: number) =>
  new GameError(402, 'insufficient_funds', `insufficient funds: the player has ${player.wealth}, the cost is ${cost}`, 'cost')
