import { Rng, hash32, weightedAt } from '../random.ts'
import { FORM_AGENT, GUILD_FEES, JSON_AGENT, LEVELS, LIST_ITEMS, LIST_PRICE, NAMES, ORGS, PROVIDERS, SHOP, WEALTH, WEALTH_WEIGHTS } from './catalog.ts'
import { resolveGameOptions, type GameOptions, type ResolvedGameOptions } from './options.ts'

/** What the simulator's model of the player expects the Game API to answer. */
export type GameExpect = 'created' | 'ok' | 'insufficient_funds' | 'already_member'

/** One Game API call: every call writes one event (docs/game.md). */
export interface GameRequest {
  /** The player's id: requests of one player must reach the server in this order. */
  player: string
  method: 'POST'
  path: string
  /** `user<N>.<provider>.com`, as seed 002's ApacheBench runs sent it. */
  host: string
  userAgent: string
  /** Form-encoded like seed 003's `curl -d`, else a JSON body like its `ab -T application/json`. */
  form: boolean
  body: Record<string, string | number>
  expect: GameExpect
}

interface Player {
  n: number
  id: string
  name: string
  password: string
  host: string
  /** Wealth in cents, as the server keeps it exact. */
  cents: number
  orgs: Set<string>
  registered: boolean
}

interface Session {
  player: Player
  /** Actions still to take after logging in. */
  left: number
  loggedIn: boolean
}

const WHO = 0
const WHAT = 1
const cheapest = Math.min(...SHOP.map((i) => i.cost), ...Object.values(LIST_PRICE))

/**
 * Seeds 002/003's game as an endless stream of API calls: `sessions` players play at once; a
 * session registers the player the first time, logs in, then buys items (with a type and cost, or
 * at list price) and joins guilds and teams. The generator keeps each player's wealth and
 * memberships, as the server does, so it knows which calls will be refused (402, 409) and a player
 * who can no longer afford anything is replaced by a new one. Same seed → same calls.
 */
export function* gameRequests(options: GameOptions = {}): Generator<GameRequest> {
  const o = resolveGameOptions(options)
  const who = new Rng(o.seed, WHO)
  const what = new Rng(o.seed, WHAT)
  const pool: Player[] = Array.from({ length: o.players }, (_, i) => newPlayer(o, i + 1, what))
  let nextN = o.players + 1
  const busy = new Set<Player>()
  const open: Array<Session | null> = new Array<Session | null>(Math.min(o.sessions, o.players)).fill(null)
  for (;;) {
    const slot = who.below(open.length)
    let s = open[slot]
    if (!s) {
      let p = pool[who.below(pool.length)]!
      // Players in a session are skipped; a pool larger than the sessions always has a free one.
      while (busy.has(p)) p = pool[(pool.indexOf(p) + 1) % pool.length]!
      busy.add(p)
      s = { player: p, left: 1 + Math.floor(what.float() * 15), loggedIn: false }
      open[slot] = s
    }
    const p = s.player
    const form = what.chance(0.5)
    const call = (path: string, body: Record<string, string | number>, expect: GameExpect): GameRequest => ({
      player: p.id,
      method: 'POST',
      path,
      host: p.host,
      userAgent: form ? FORM_AGENT : JSON_AGENT,
      form,
      body,
      expect,
    })
    let req: GameRequest
    if (!p.registered) {
      p.registered = true
      const wealth = p.cents / 100
      req = call('/game/players', form ? { userid: p.id, username: p.name, userpwd: p.password, wealth } : { id: p.id, name: p.name, password: p.password, wealth }, 'created')
    } else if (!s.loggedIn) {
      s.loggedIn = true
      req = call('/game/login', form ? { username: p.name, userpwd: p.password } : { name: p.name, password: p.password }, 'ok')
    } else {
      req = action(p, what, call)
      s.left--
    }
    if (s.loggedIn && s.left === 0) {
      open[slot] = null
      busy.delete(p)
      if (p.cents < cheapest * 100) {
        // Broke: this player stops playing and a newcomer takes the place.
        pool[pool.indexOf(p)] = newPlayer(o, nextN++, what)
      }
    }
    yield req
  }
}

type Call = (path: string, body: Record<string, string | number>, expect: GameExpect) => GameRequest

function action(p: Player, rng: Rng, call: Call): GameRequest {
  const kind = rng.weighted(['buy', 'purchase', 'join', 'join_a_guild'], [45, 25, 22, 8])
  const id = { userid: p.id }
  if (kind === 'buy') {
    const item = rng.pick(SHOP)
    return call(`/game/buy/${item.kind}`, { ...id, type: item.type, cost: item.cost }, pay(p, item.cost))
  }
  if (kind === 'purchase') {
    const item = rng.pick(LIST_ITEMS)
    return call(`/game/purchase/${item}`, id, pay(p, LIST_PRICE[item]!))
  }
  const org = rng.pick(ORGS)
  const level = rng.pick(LEVELS)
  const team = kind === 'join' && rng.chance(0.4)
  const fee = team ? 0 : rng.pick(GUILD_FEES)
  const path = kind === 'join_a_guild' ? '/game/join_a_guild' : `/game/join/${team ? 'team' : 'guild'}`
  const membership = `${team ? 'team' : 'guild'}:${org}`
  // The server checks membership before money (src/game/players.ts).
  let expect: GameExpect
  if (p.orgs.has(membership)) expect = 'already_member'
  else {
    expect = pay(p, fee)
    if (expect === 'ok') p.orgs.add(membership)
  }
  return call(path, fee > 0 ? { ...id, org, level, cost: fee } : { ...id, org, level }, expect)
}

function pay(p: Player, cost: number): GameExpect {
  const c = Math.round(cost * 100)
  if (p.cents < c) return 'insufficient_funds'
  p.cents -= c
  return 'ok'
}

function newPlayer(o: ResolvedGameOptions, n: number, rng: Rng): Player {
  const h = hash32(o.seed, n)
  return {
    n,
    id: `p${n}`,
    name: `${NAMES[h % NAMES.length]}${n}`,
    password: `pw-${hash32(h, 9).toString(36)}`,
    host: `user${n}.${PROVIDERS[hash32(h, 1) % PROVIDERS.length]}.com`,
    cents: weightedAt(WEALTH, WEALTH_WEIGHTS, rng.float()) * 100,
    orgs: new Set(),
    registered: false,
  }
}

/** A request's body as sent: form-encoded or JSON. */
export function encodeGameBody(req: GameRequest): { contentType: string; body: string } {
  if (req.form) return { contentType: 'application/x-www-form-urlencoded', body: new URLSearchParams(Object.entries(req.body).map(([k, v]): [string, string] => [k, String(v)])).toString() }
  return { contentType: 'application/json', body: JSON.stringify(req.body) }
}
