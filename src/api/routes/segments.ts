import { RuleError } from '../../rules/index.ts'
import type { SegmentInput } from '../../engine/thread/protocol.ts'
import type { RouteModule } from '../context.ts'
import { sendError } from '../errors.ts'
import { parseLimit } from './profile-query.ts'
import { ruleErrorBody } from './segment-input.ts'
import { needs } from '../schemas/common.ts'
import { MEMBERS_QUERY, MEMBERS_RESPONSES, PUT_SEGMENT_RESPONSES, SEGMENT_INPUT, SEGMENT_PARAMS, SEGMENT_RESPONSES, SEGMENTS_RESPONSES } from '../schemas/segments.ts'
import { decodePageCursor, encodePageCursor } from './page-cursor.ts'

/** Segment definitions with live sizes, their members, and changing a segment at run time. */
export const segmentsRoutes: RouteModule = (app, ctx) => {
  const read = ctx.auth.require('read')
  const tags = ['segments']

  const listSchema = { operationId: 'listSegments', summary: 'Segment definitions and live sizes', description: needs('read'), tags }
  app.get('/v1/segments', { preHandler: read, schema: listSchema, config: { openapi: { response: SEGMENTS_RESPONSES } } }, async (req) => ({
    segments: await ctx.engine.segments(req.principal!.tenant),
  }))

  // Path parameters are documented only, as before this document had them: Fastify never checked them here.
  const getSchema = { operationId: 'getSegment', summary: 'One segment', description: needs('read'), tags }
  app.get<{ Params: { id: string } }>('/v1/segments/:id', { preHandler: read, schema: getSchema, config: { openapi: { params: SEGMENT_PARAMS, response: SEGMENT_RESPONSES } } }, async (req, reply) => {
    const s = (await ctx.engine.segments(req.principal!.tenant)).find((x) => x.name === req.params.id)
    return s ?? sendError(reply, 404, 'not_found', `no segment "${req.params.id}"`)
  })

  app.get<{ Params: { id: string }; Querystring: { limit?: string; cursor?: string } }>(
    '/v1/segments/:id/members',
    {
      preHandler: read,
      schema: {
        operationId: 'listSegmentMembers',
        summary: 'Members of a segment, with since-when, paginated by user id',
        description: needs('read'),
        tags,
      },
      // limit and cursor are checked by the handler (400 `invalid_query` naming the field): documented only.
      config: { openapi: { params: SEGMENT_PARAMS, querystring: MEMBERS_QUERY, response: MEMBERS_RESPONSES } },
    },
    async (req, reply) => {
      const limit = parseLimit(req.query.limit, 100, 10_000)
      if (!limit.ok) return sendError(reply, 400, 'invalid_query', limit.message, 'limit')
      const cursor = decodePageCursor(req.query.cursor)
      if (!cursor.ok) return sendError(reply, 400, 'invalid_query', cursor.message, 'cursor')
      const page = await ctx.engine.members(req.principal!.tenant, req.params.id, limit.value, cursor.userId)
      if (page === null) return sendError(reply, 404, 'not_found', `no segment "${req.params.id}"`)
      return { ...page, next: page.next === null ? null : encodePageCursor(page.next) }
    },
  )

  app.put<{ Params: { id: string }; Body: unknown }>(
    '/v1/segments/:id',
    {
      // The key's tenant's own rules (docs/tenancy.md): an admin changes its tenant's, never another's.
      preHandler: ctx.auth.requireOneOf(['admin', 'operator']),
      schema: {
        operationId: 'putSegment',
        summary: "Add or change a segment of the key's tenant at run time; it applies to new events",
        description: needs(
          'admin',
          "Changes the key's tenant's own rules only (an `operator` key may too, in its tenant). A segment with the name of one in the rules file replaces it for this tenant. A rule that does not compile, or a rule set over its caps, is a 400 `invalid_rule` with `line` and `column`; a concurrent change of the same tenant's rules is a 409 `rules_conflict`.",
        ),
        tags,
        body: SEGMENT_INPUT,
      },
      config: { openapi: { params: SEGMENT_PARAMS, response: PUT_SEGMENT_RESPONSES } },
    },
    async (req, reply) => {
      try {
        return await ctx.engine.putSegment(req.params.id, req.body as SegmentInput, req.principal!.tenant, req.principal!.keyId)
      } catch (err) {
        if (err instanceof RuleError) return reply.code(400).send(ruleErrorBody(err))
        throw err
      }
    },
  )
}
