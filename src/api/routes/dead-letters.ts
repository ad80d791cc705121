import { DEFAULT_TENANT } from '../../events/index.ts'
import { listDeadLetters, parseDeadLetterQuery } from '../collector/index.ts'
import type { RouteModule } from '../context.ts'
import { sendError } from '../errors.ts'
import { needs } from '../schemas/common.ts'
import { DEAD_LETTERS_QUERY, DEAD_LETTERS_RESPONSES } from '../schemas/collector.ts'

/**
 * GET /v1/dead-letters?limit=&cursor= — the key's tenant's rejected events, newest first, with the
 * reason, the field at fault and the bytes as sent. See docs/collector.md.
 */
export const deadLettersRoutes: RouteModule = (app, ctx) => {
  const schema = {
    operationId: 'listDeadLetters',
    summary: "The key's tenant's rejected events, newest first",
    description: needs('read', 'With the reason, the field at fault and the bytes as sent.'),
    tags: ['collector'],
  }
  // The query is checked by parseDeadLetterQuery (its own 400s, naming the parameter): documented only.
  app.get('/v1/dead-letters', { preHandler: ctx.auth.require('read'), schema, config: { openapi: { querystring: DEAD_LETTERS_QUERY, response: DEAD_LETTERS_RESPONSES } } }, async (req, reply) => {
    const query = parseDeadLetterQuery(req.query)
    if ('code' in query) {
      ctx.metrics.rejectedRequests.inc({ reason: query.code })
      return sendError(reply, query.status, query.code, query.message, query.field)
    }
    const tenant = req.principal?.tenant ?? DEFAULT_TENANT
    // Letters of a person erased are hidden while the erase's tombstone holds (docs/privacy.md).
    const erased = (await ctx.state.privacy.listErasures({ tenant, active: true, limit: 1_000 })).filter((j) => j.tombstone).flatMap((j) => j.ids)
    return reply.send(await listDeadLetters(ctx.log, ctx.partitions, tenant, query, erased))
  })
}
