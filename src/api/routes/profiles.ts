import type { RouteModule } from '../context.ts'
import { sendError } from '../errors.ts'
import { needs } from '../schemas/common.ts'
import { PROFILE_PARAMS, PROFILE_RESPONSES, PROFILE_SEARCH_QUERY, PROFILE_SEARCH_RESPONSES, TRAITS_RESPONSES } from '../schemas/profiles.ts'
import { parseConditions, parseLimit } from './profile-query.ts'
import { decodePageCursor, encodePageCursor } from './page-cursor.ts'

/** Seed 004's profile lookups: one user by id, and a search by segment and traits. */
export const profilesRoutes: RouteModule = (app, ctx) => {
  app.get(
    '/v1/traits',
    {
      preHandler: ctx.auth.require('read'),
      schema: {
        operationId: 'listTraits',
        summary: 'The traits rules and profile searches can name: built-in, then those the rules file declares',
        description: needs('read', 'Declared traits come from the rules file\'s `traits:` section (docs/segments.md, "Custom traits").'),
        tags: ['profiles'],
      },
      config: { openapi: { response: TRAITS_RESPONSES } },
    },
    async () => ({ traits: await ctx.engine.traits() }),
  )

  app.get<{ Params: { user_id: string } }>(
    '/v1/profiles/:user_id',
    {
      preHandler: ctx.auth.require('read'),
      schema: {
        operationId: 'getProfile',
        summary: "One user's live profile: traits, counts, segments with since-when, window metrics",
        description: needs('read'),
        tags: ['profiles'],
        params: PROFILE_PARAMS,
      },
      config: { openapi: { response: PROFILE_RESPONSES } },
    },
    async (req, reply) => {
      // Serialized by the engine (profileJson): the answer is sent as it comes.
      const json = await ctx.engine.profileJson(req.principal!.tenant, req.params.user_id)
      if (json === null) return sendError(reply, 404, 'not_found', `no profile for user "${req.params.user_id}"`)
      return reply.type('application/json; charset=utf-8').send(json)
    },
  )

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/v1/profiles',
    {
      preHandler: ctx.auth.require('read'),
      schema: {
        operationId: 'searchProfiles',
        summary: 'Search profiles by segment and trait conditions, paginated',
        description: needs('read', 'Profiles in user id order; follow `next` for the following page.'),
        tags: ['profiles'],
      },
      // The query is read by the handler (every other key is a condition, limit and cursor give their own 400s): documented only.
      config: { openapi: { querystring: PROFILE_SEARCH_QUERY, response: PROFILE_SEARCH_RESPONSES } },
    },
    async (req, reply) => {
      const where = parseConditions(req.url, await ctx.engine.traits())
      if (!where.ok) return sendError(reply, 400, 'invalid_query', where.message, 'where')
      const limit = parseLimit(req.query.limit, 50, 1000)
      if (!limit.ok) return sendError(reply, 400, 'invalid_query', limit.message, 'limit')
      const cursor = decodePageCursor(req.query.cursor)
      if (!cursor.ok) return sendError(reply, 400, 'invalid_query', cursor.message, 'cursor')
      const segment = req.query.segment
      const tenant = req.principal!.tenant
      if (segment !== undefined && !(await ctx.engine.segments(tenant)).some((s) => s.name === segment)) {
        return sendError(reply, 404, 'not_found', `no segment "${segment}"`, 'segment')
      }
      const page = await ctx.engine.searchProfiles({
        tenant,
        where: where.value,
        limit: limit.value,
        ...(segment === undefined ? {} : { segment }),
        ...(cursor.userId === undefined ? {} : { cursor: cursor.userId }),
      })
      return { ...page, next: page.next === null ? null : encodePageCursor(page.next) }
    },
  )
}
