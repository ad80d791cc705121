import type { RouteModule } from '../context.ts'
import { sendError } from '../errors.ts'
import { parseConditions, parseLimit } from './profile-query.ts'
import { decodePageCursor, encodePageCursor } from './page-cursor.ts'

/** Seed 004's profile lookups: one user by id, and a search by segment and traits. */
export const profilesRoutes: RouteModule = (app, ctx) => {
  app.get<{ Params: { user_id: string } }>(
    '/v1/profiles/:user_id',
    {
      preHandler: ctx.auth.require('read'),
      schema: { summary: 'One user\'s live profile: traits, counts, segments with since-when, window metrics', tags: ['profiles'], params: { type: 'object', properties: { user_id: { type: 'string' } } } },
    },
    async (req, reply) => {
      const profile = await ctx.engine.profile(req.principal!.tenant, req.params.user_id)
      if (!profile) return sendError(reply, 404, 'not_found', `no profile for user "${req.params.user_id}"`)
      return profile
    },
  )

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/v1/profiles',
    {
      preHandler: ctx.auth.require('read'),
      schema: { summary: 'Search profiles by segment and trait conditions, paginated', tags: ['profiles'] },
    },
    async (req, reply) => {
      const where = parseConditions(req.url)
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
