import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { buy, GameError, join, login, lookup, register, visitorAction, type GameCall, type GameDeps, type PublicPlayer } from '../../game/index.ts'

/*
 * The seeds' own routes (docs/game.md, "Seed commands"), answered as the seeds' Flask apps answered:
 * plain text, no API key (the seed listener acts for one tenant), GET and POST where the seed's
 * commands use either. Each maps onto the game's own handlers, so players, events and warehouse
 * rows are the same as under /game.
 */

type Params = Record<string, string | undefined>

/** Seed 003's emoticons by item kind ("Sword purchased [:)", "Spell purchased <:)"); others get [:). */
const PURCHASE_FACE: Readonly<Record<string, string>> = { sword: '[:)', spell: '<:)' }

const REDIRECT_HTML =
  '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n' +
  '<p>You should be redirected automatically to target URL: <a href="static/register.html">static/register.html</a>.  If not click the link.'

const REGISTER_HTML = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Register</title></head>
<body><h1>Register a player</h1>
<form method="post" action="/create/user">
<label>User id <input name="userid"></label>
<label>Name <input name="username"></label>
<label>Password <input name="userpwd" type="password"></label>
<label>Wealth <input name="wealth" type="number"></label>
<button>Create</button>
</form></body></html>
`

export function seedRoutes(app: FastifyInstance, deps: GameDeps, tenant: string): void {
  const call = (req: FastifyRequest): GameCall & { body: Record<string, unknown> } => ({ tenant, body: { ...(req.query as Params), ...bodyObject(req.body) }, headers: req.headers })
  const text = (reply: FastifyReply, status: number, body: string) => reply.code(status).type('text/html; charset=utf-8').send(body)
  /** A refusal the seed answered in words (200, as Flask returned its string), or the game's own error as text. */
  const refused = (reply: FastifyReply, err: unknown, words: Record<string, string> = {}) => {
    if (!(err instanceof GameError)) throw err
    const said = words[err.code]
    return said !== undefined ? text(reply, 200, said) : text(reply, err.status, `${err.message}\n`)
  }

  /** A route's answer: its words on success, or refused's (the seed's words for a refusal it answered in words). */
  const answer =
    (act: (req: FastifyRequest) => Promise<string>, words: Record<string, string> = {}) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      try {
        return text(reply, 200, await act(req))
      } catch (err) {
        return refused(reply, err, words)
      }
    }
  const kindOf = (req: FastifyRequest) => (req.params as Params).kind ?? ''
  const poor = { insufficient_funds: 'You do not have sufficient funds [:(' }

  // Seed 002: GET (its ab calls) or POST, usually with no player: an anonymous visitor of the Host.
  app.route({
    method: ['GET', 'POST'],
    url: '/purchase/:item_name',
    handler: answer(async (req) => {
      const item = (req.params as Params).item_name ?? ''
      const c = call(req)
      if (namesPlayer(c.body)) await buy(deps, c, item)
      else await visitorAction(deps, tenant, req.headers, { kind: 'purchase', item })
      return `${item} Purchased!\n`
    }, poor),
  })
  app.route({
    method: ['GET', 'POST'],
    url: '/join_a_guild',
    handler: answer(
      async (req) => {
        const c = call(req)
        if (namesPlayer(c.body)) await join(deps, c, 'guild')
        else await visitorAction(deps, tenant, req.headers, { kind: 'join_guild' })
        return 'Joined guild.\n'
      },
      { ...poor, already_member: 'Joined guild.\n' },
    ),
  })

  // Seed 003: forms or JSON naming the player by userid.
  app.get('/', (_req, reply) => reply.code(302).header('location', 'static/register.html').type('text/html; charset=utf-8').send(REDIRECT_HTML))
  app.get('/static/register.html', (_req, reply) => text(reply, 200, REGISTER_HTML))
  app.post(
    '/create/user',
    answer(async (req) => (await register(deps, call(req)), 'Created user +:)'), { duplicate_name: 'User already exists [:(', duplicate_id: 'User already exists [:(' }),
  )
  app.post(
    '/login',
    answer(async (req) => `Welcome back ${((await login(deps, call(req))).body.player as PublicPlayer).name} +:)`, { wrong_password: 'Wrong password [:(' }),
  )
  app.post(
    '/buy/:kind',
    answer(async (req) => {
      const kind = kindOf(req)
      await buy(deps, call(req), kind)
      return `${kind.charAt(0).toUpperCase()}${kind.slice(1)} purchased ${PURCHASE_FACE[kind] ?? '[:)'}`
    }, poor),
  )
  // A second join of the same org answers as the first did.
  app.post('/join/:kind', async (req, reply) => answer(async (r) => (await join(deps, call(r), kindOf(r)), `Joined #${kindOf(r)}`), { ...poor, already_member: `Joined #${kindOf(req)}` })(req, reply))
  app.get('/data/user', async (req, reply) => {
    const q = req.query as Params
    const id = q.userid ?? q.user_id
    if (id === undefined || id.length === 0) return text(reply, 400, 'userid is required\n')
    return answer(async () => `User data: \n\n${JSON.stringify(seedUser((await lookup(deps, tenant, { by: 'id', value: id })).body.player as PublicPlayer))}\n`, {
      unknown_player: 'User not found [:(\n',
    })(req, reply)
  })
}

/** A player as seed 003's `/data/user` printed it: its field names, times as Python printed them, the password masked. */
function seedUser(p: PublicPlayer): Record<string, unknown> {
  const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
  return {
    user_id: p.id,
    wealth: p.wealth,
    created: time(p.created),
    user_pwd: '****',
    affiliations: p.affiliations.map((a) => ({ joined_ts: time(a.joined_at), org: a.org, level: a.level })),
    health: p.health,
    inventory: p.inventory.map((i) => i.type),
    user_name: p.name,
  }
}

function bodyObject(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {}
}

/** Whether a call names a player (seed 003's userid, or the game's own fields): else it is an anonymous visitor's. */
function namesPlayer(body: Record<string, unknown>): boolean {
  return ['userid', 'user_id', 'player_id', 'player', 'name', 'username'].some((k) => body[k] !== undefined && body[k] !== '')
}
