import type { IncomingHttpHeaders } from 'node:http'
import type { JsonValue, TrackedEvent } from '../events/index.ts'
import { uuid7 } from '../events/uuid7.ts'
import type { PlayerRecord, PlayerStore, PlayerUpdate } from '../players/player-store.ts'
import { GameError } from './errors.ts'
import { actionEvent, appendActionEvents, gameEvent, GAME_EVENTS, outboxOf, requestInfo, type EventSink, type RequestInfo } from './events.ts'
import { hashPassword, verifyPassword } from './password.ts'
import { decideBuy, decideJoin, publicPlayer, type Outcome } from './players.ts'
import { DEFAULT_HEALTH, parseBuy, parseJoin, parseLogin, parseRegister, type PlayerRef } from './requests.ts'

/**
 * The game actions, free of HTTP: each parses its body, applies the action atomically in the
 * player store together with ONE event (the outbox: docs/game.md), appends that event to the log
 * (durable before it answers) and answers. A refusal the player caused (insufficient funds, wrong
 * password) is still an action: its event is appended, then the GameError is thrown.
 */
export interface GameDeps extends EventSink {
  store: PlayerStore
  /**
   * The change was stored with its event but the log refused the append: the answer is still the
   * action's (it happened), and the outbox relay appends the event once the log takes it.
   */
  onQueued?: (event: TrackedEvent, err: unknown) => void
  /**
   * The player's undelivered inbox messages (docs/streams.md, "Player notifications"), handed over
   * at login and marked delivered. Absent: a login answers no messages.
   */
  takeMessages?: (tenant: string, playerId: string) => Promise<Array<Record<string, unknown>>>
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
  const event = actionEvent(call.tenant, gameEvent(GAME_EVENTS.created, player, {}, requestInfo(call.headers), now), now)
  const created = await store.createPlayer(player, outboxOf(event))
  if (created === 'duplicate_name') throw duplicateName(req.name)
  if (created === 'duplicate_id') throw new GameError(409, 'duplicate_id', `a player with id "${player.id}" already exists`, 'id')
  await deliver(deps, event)
  return { status: 201, body: { player: publicPlayer(player) } }
}

export async function login(deps: GameDeps, call: GameCall): Promise<GameAnswer> {
  const req = parseLogin(call.body)
  const player = await findPlayer(deps.store, call.tenant, req.player)
  const ok = await verifyPassword(req.password, player.password_hash)
  await record(deps, call, GAME_EVENTS.login, player, { status: ok ? 'ok' : 'wrong_password' }, Date.now())
  if (!ok) throw new GameError(401, 'wrong_password', 'wrong password', 'password')
  const messages = deps.takeMessages ? await deps.takeMessages(call.tenant, player.id) : []
  return { status: 200, body: { player: publicPlayer(player), messages } }
}

export async function buy(deps: GameDeps, call: GameCall, kind: string): Promise<GameAnswer> {
  const req = parseBuy(kind, call.body)
  const found = await findPlayer(deps.store, call.tenant, req.player)
  const action = (status: string): Record<string, JsonValue> => {
    const a: Record<string, JsonValue> = { kind: req.kind, type: req.type, cost: req.cost, status }
    // `amount` is what the engine's total_purchases trait sums over `purchase` events: paid purchases only.
    if (status === 'approved_purchase') a.amount = req.cost
    return a
  }
  const info = requestInfo(call.headers)
  const outcome = await deps.store.updatePlayer(call.tenant, found.id, (current) => withEvent(decideBuy(current, req, Date.now()), call.tenant, info, (o) => [GAME_EVENTS.purchase, action(o.status)]))
  if (outcome === null) throw unknownPlayer(req.player)
  const approved = outcome.status === 'approved_purchase'
  await settle(deps, call, outcome, GAME_EVENTS.purchase, action(outcome.status))
  if (!approved) throw insufficientFunds(outcome.player, req.cost)
  return { status: 200, body: { status: outcome.status, item: { kind: req.kind, type: req.type, cost: req.cost }, player: publicPlayer(outcome.player) } }
}

export async function join(deps: GameDeps, call: GameCall, kind: string): Promise<GameAnswer> {
  const req = parseJoin(kind, call.body)
  const found = await findPlayer(deps.store, call.tenant, req.player)
  const name = req.kind === 'guild' ? GAME_EVENTS.joinGuild : GAME_EVENTS.joinTeam
  const action = (status: string): Record<string, JsonValue> => ({ kind: req.kind, org: req.org, level: req.level, cost: req.cost, status })
  const info = requestInfo(call.headers)
  const outcome = await deps.store.updatePlayer(call.tenant, found.id, (current) => withEvent(decideJoin(current, req, Date.now()), call.tenant, info, (o) => [name, action(o.status)]))
  if (outcome === null) throw unknownPlayer(req.player)
  await settle(deps, call, outcome, name, action(outcome.status))
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

/** An outcome, and when it changed the player, the event stored with the change. */
type Recorded<S extends string> = Outcome<S> & { event?: TrackedEvent }

/**
 * Runs inside the store's write transaction: a write gets its event made from the outcome and stored
 * in the same transaction (the outbox); a refusal changes nothing, so it stores nothing.
 */
function withEvent<S extends string>(d: PlayerUpdate<Outcome<S>>, tenant: string, info: RequestInfo, describe: (o: Outcome<S>) => [string, Record<string, JsonValue>]): PlayerUpdate<Recorded<S>> {
  if ('refuse' in d) return d
  const [name, action] = describe(d.result)
  const event = actionEvent(tenant, gameEvent(name, d.result.player, action, info, d.result.at), d.result.at)
  return { write: d.write, result: { ...d.result, event }, outbox: outboxOf(event) }
}

/** After the transaction: the stored event is delivered; a refusal's event is recorded on its own. */
async function settle<S extends string>(deps: GameDeps, call: GameCall, outcome: Recorded<S>, name: string, action: Record<string, JsonValue>): Promise<void> {
  if (outcome.event) await deliver(deps, outcome.event)
  else await record(deps, call, name, outcome.player, action, outcome.at)
}

/**
 * Appends the event of a change already stored with it, then drops its outbox row. If the log
 * refuses, the action still happened and its event is safe in the outbox: the relay appends it when
 * the log recovers (./outbox-relay.ts), so the answer is the action's, not an error a client might
 * answer by buying twice.
 */
async function deliver(deps: GameDeps, event: TrackedEvent): Promise<void> {
  try {
    await appendActionEvents(deps, [event])
  } catch (err) {
    deps.onQueued?.(event, err)
    return
  }
  // Best effort: a row left behind is found appended (its id in the dedupe horizon) and dropped by the relay.
  await deps.store.removeOutbox([{ tenant: event.tenant, id: event.event_id, at: event.received_at }]).catch(() => undefined)
}

/** The event of an action that changed nothing (a login, a refusal): appended directly, or the answer is an error. */
async function record(deps: GameDeps, call: GameCall, name: string, player: PlayerRecord, action: Record<string, JsonValue>, at: number): Promise<void> {
  try {
    await appendActionEvents(deps, [actionEvent(call.tenant, gameEvent(name, player, action, requestInfo(call.headers), at), at)])
  } catch (err) {
    throw new GameError(503, 'event_not_recorded', 'the event could not be written to the log; nothing was applied', undefined, { cause: err })
  }
}

const duplicateName = (name: string) => new GameError(409, 'duplicate_name', `a player named "${name}" already exists`, 'name')

const unknownPlayer = (ref: PlayerRef) => new GameError(404, 'unknown_player', `no player ${ref.by === 'name' ? 'named' : ref.by === 'id' ? 'with id' : 'with id or name'} "${ref.value}"`, 'player')

const insufficientFunds = (player: PlayerRecord, cost: number) => new GameError(402, 'insufficient_funds', `insufficient funds: the player has ${player.wealth}, the cost is ${cost}`, 'cost')
