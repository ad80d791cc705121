import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { buy, GameError, join, login, lookup, parseForm, refFromQuery, register, type GameAnswer, type GameCall, type GameDeps } from '../../game/index.ts'
import type { ApiContext, RouteModule } from '../context.ts'
import { sendError } from '../errors.ts'
import type { DocumentOnly } from '../openapi.ts'
import { needs } from '../schemas/common.ts'
import * as S from '../schemas/game.ts'
import { INBOX_PAGE } from '../schemas/inbox.ts'
import { inboxView } from '../inbox/inbox-view.ts'

/** Game bodies are a handful of short fields; the app-wide limit is sized for collector batches. */
export const GAME_BODY_LIMIT = 16 * 1024

/**
 * The game backend of seeds 002 and 003 under /game: players, wealth, purchases, guilds and teams,
 * each action written as one enriched event to the log. In its own scope so the form parser and
 * the body-error mapping apply to these routes only. See docs/game.md.
 */
export const gameRoutes: RouteModule = async (app, ctx) => {
  await app.register(async (scope) => gameScope(scope, ctx), { prefix: '/game' })
}

type Params = Record<string, string | undefined>

/** What the game's handlers need of the server: its players, the log, the dedupe horizon, metrics and logs. */
export function gameDeps(ctx: ApiContext): GameDeps {
  return {
    store: ctx.players,
    log: ctx.log,
    partitions: ctx.partitions,
    eventsFormat: ctx.config.eventsFormat,
    deduper: ctx.deduper,
    onAppended: (e) => ctx.metrics.ingestEvents.inc({ tenant: e.tenant }),
    onQueued: (e, err) =>
      ctx.logger.warn({ err, event: e.event, event_id: e.event_id, tenant: e.tenant }, 'game event kept in the outbox: the log refused it; the relay appends it when the log recovers'),
    takeMessages: async (tenant, playerId) => {
      const messages = await ctx.state.inbox.undelivered(tenant, playerId, INBOX_PAGE.max)
      if (messages.length > 0)
        await ctx.state.inbox.markDelivered(
          tenant,
          playerId,
          messages.map((m) => m.id),
        )
      return messages.map(inboxView)
    },
  }
}

async function gameScope(scope: FastifyInstance, ctx: ApiContext): Promise<void> {
  scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseForm(String(body)))
    } catch (err) {
      done(err as Error, undefined)
    }
  })
  // Fastify parses text/plain by default; the game takes JSON or a form, so text is a 415 (docs/game.md).
  scope.removeContentTypeParser('text/plain')
  scope.setErrorHandler(bodyErrors)
  const deps = gameDeps(ctx)

  const answer = (action: (call: GameCall, params: Params, query: Params) => Promise<GameAnswer>) => async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const out = await action({ tenant: req.principal!.tenant, body: req.body, headers: req.headers }, req.params as Params, req.query as Params)
      return await reply.code(out.status).send(out.body)
    } catch (err) {
      if (!(err instanceof GameError)) throw err
      // The body may hold a password: log the cause, never the request.
      if (err.status >= 500) ctx.logger.error({ err: err.cause ?? err }, err.message)
      return sendError(reply, err.status, err.code, err.message, err.field)
    }
  }
  const write = { preHandler: ctx.auth.require('write'), bodyLimit: GAME_BODY_LIMIT }
  // Bodies, path parameters and query strings are read by the game itself (JSON or form fields,
  // aliases, its own codes naming the field): documented only, in config.openapi (see DocumentOnly).
  const doc = (operationId: string, summary: string, scope: 'write' | 'read', response: NonNullable<DocumentOnly['response']>, only: DocumentOnly) => ({
    schema: { operationId, summary, description: needs(scope), tags: ['game'] },
    config: { openapi: { ...only, ...(only.body === undefined ? {} : { consumes: S.GAME_CONSUMES }), response } },
  })

  scope.post(
    '/players',
    { ...write, ...doc('registerPlayer', 'Register a player; emits player_created', 'write', S.REGISTER_RESPONSES, { body: S.REGISTER_BODY }) },
    answer((call) => register(deps, call)),
  )
  scope.post(
    '/login',
    { ...write, ...doc('loginPlayer', "Check a player's password; emits login", 'write', S.LOGIN_RESPONSES, { body: S.LOGIN_BODY }) },
    answer((call) => login(deps, call)),
  )
  scope.post(
    '/buy/:kind',
    { ...write, ...doc('buyItem', 'Buy an item atomically (402 when the player cannot afford it); emits purchase', 'write', S.BUY_RESPONSES, { body: S.BUY_BODY, params: S.KIND_PARAMS }) },
    answer((call, p) => buy(deps, call, p.kind ?? '')),
  )
  scope.post(
    '/purchase/:item_name',
    { ...write, ...doc('purchaseItem', 'Seed 002: buy an item, cost defaulting to its list price; emits purchase', 'write', S.BUY_RESPONSES, { body: S.BUY_BODY, params: S.ITEM_PARAMS }) },
    answer((call, p) => buy(deps, call, p.item_name ?? '')),
  )
  scope.post(
    '/join/:kind',
    { ...write, ...doc('joinOrganisation', 'Join a guild or team, paying cost if given; emits join_guild or join_team', 'write', S.JOIN_RESPONSES, { body: S.JOIN_BODY, params: S.JOIN_PARAMS }) },
    answer((call, p) => join(deps, call, p.kind ?? '')),
  )
  scope.post(
    '/join_a_guild',
    { ...write, ...doc('joinGuild', 'Seed 002: join a guild; emits join_guild', 'write', S.JOIN_RESPONSES, { body: S.JOIN_BODY }) },
    answer((call) => join(deps, call, 'guild')),
  )

  const read = { preHandler: ctx.auth.require('read') }
  scope.get(
    '/players/:id',
    { ...read, ...doc('getPlayer', 'One player by id (never the password hash)', 'read', S.LOOKUP_RESPONSES, { params: S.PLAYER_PARAMS }) },
    answer((call, p) => lookup(deps, call.tenant, { by: 'id', value: p.id ?? '' })),
  )
  scope.get(
    '/players',
    { ...read, ...doc('findPlayer', 'One player by ?name= or ?id=', 'read', S.LOOKUP_RESPONSES, { querystring: S.PLAYER_QUERY }) },
    answer((call, _p, q) => lookup(deps, call.tenant, refFromQuery(q))),
  )
}

/** Fastify refuses bad bodies before a handler runs: give those refusals the game's error codes. */
function bodyErrors(err: Error & { code?: string }, _req: FastifyRequest, reply: FastifyReply): FastifyReply {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return sendError(reply, 413, 'payload_too_large', `the body is larger than ${GAME_BODY_LIMIT} bytes`)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return sendError(reply, 415, 'unsupported_media_type', 'send application/json or application/x-www-form-urlencoded')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return sendError(reply, 400, 'invalid_json', 'the body is empty; send a JSON object')
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      // Also secure-json-parse's refusal of __proto__ and constructor.prototype keys.
      return sendError(reply, 400, 'invalid_json', 'the body is not valid JSON')
    case 'FORM_ENCODING':
      return sendError(reply, 400, 'invalid_form', err.message)
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return sendError(reply, 400, 'bad_request', 'the Content-Length does not match the body')
  }
  // Anything else is the app's to answer (src/api/app.ts).
  throw err
}
