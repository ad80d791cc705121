import { GameError, missingField } from './errors.ts'
import { asBody, present, readAmount, readId, readPassword, readText, type Body } from './input.ts'
import { KIND_PATTERN, isJoinKind, listPrice, type JoinKind } from './prices.ts'

/** How a request names its player: `player` may be either, the other fields say which. */
export type PlayerRef = { by: 'id' | 'name' | 'id_or_name'; value: string }

export interface RegisterRequest {
  /** Client-chosen id (seed 003's `userid`); the server makes a UUIDv7 otherwise. */
  id?: string
  name: string
  password: string
  wealth: number
}

export interface LoginRequest {
  player: PlayerRef
  password: string
}

export interface BuyRequest {
  player: PlayerRef
  kind: string
  type: string
  cost: number
}

export interface JoinRequest {
  player: PlayerRef
  kind: JoinKind
  org: string
  level: string
  cost: number
}

export const DEFAULT_WEALTH = 1000
export const DEFAULT_HEALTH = 100

export function parseRegister(raw: unknown): RegisterRequest {
  const body = asBody(raw)
  const id = readId(body, ['id', 'userid', 'user_id', 'player_id'])
  const req: RegisterRequest = {
    name: readText(body, ['name', 'username'], true),
    password: readPassword(body),
    wealth: readAmount(body, 'wealth', DEFAULT_WEALTH),
  }
  if (id !== undefined) req.id = id
  return req
}

export function parseLogin(raw: unknown): LoginRequest {
  const body = asBody(raw)
  return { player: readPlayerRef(body), password: readPassword(body) }
}

/** `POST /buy/:kind` and seed 002's `POST /purchase/:item_name`: type defaults to the kind, cost to its list price. */
export function parseBuy(kind: string, raw: unknown): BuyRequest {
  checkKind(kind)
  const body = asBody(raw)
  const player = readPlayerRef(body)
  const type = readText(body, ['type'], false) ?? kind
  const price = listPrice(kind)
  if (price === undefined && !present(body, 'cost')) {
    throw new GameError(400, 'missing_field', `cost is required: "${kind}" has no list price`, 'cost')
  }
  return { player, kind, type, cost: readAmount(body, 'cost', price) }
}

export function parseJoin(kind: string, raw: unknown): JoinRequest {
  if (!isJoinKind(kind)) throw new GameError(400, 'invalid_kind', `cannot join a "${kind.slice(0, 40)}": kind must be guild or team`, 'kind')
  const body = asBody(raw)
  return {
    player: readPlayerRef(body),
    kind,
    org: readText(body, ['org'], true),
    level: readText(body, ['level'], true),
    cost: readAmount(body, 'cost', 0),
  }
}

export function checkKind(kind: string): void {
  if (!KIND_PATTERN.test(kind)) throw new GameError(400, 'invalid_kind', 'item kind must be 1 to 32 lowercase letters or _', 'kind')
}

function readPlayerRef(body: Body): PlayerRef {
  const id = readId(body, ['player_id', 'userid', 'user_id'])
  if (id !== undefined) return { by: 'id', value: id }
  const name = readText(body, ['name', 'username'], false)
  if (name !== undefined) return { by: 'name', value: name }
  const either = readText(body, ['player'], false)
  if (either !== undefined) return { by: 'id_or_name', value: either }
  throw missingField('player', ['player_id', 'userid', 'name', 'username'])
}

/** `GET /game/players?name=dirk` or `?id=…` (seed 003 looked players up as `?userid=`). */
export function refFromQuery(query: Readonly<Record<string, unknown>>): PlayerRef {
  const id = readId(query, ['id', 'userid'])
  if (id !== undefined) return { by: 'id', value: id }
  const name = readText(query, ['name', 'username'], false)
  if (name !== undefined) return { by: 'name', value: name }
  throw missingField('name', ['id', 'userid', 'username'])
}
