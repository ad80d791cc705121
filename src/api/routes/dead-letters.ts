import { DEFAULT_TENANT } from '../../events/index.ts'
import { listDeadLetters, parseDeadLetterQuery } from '../collector/index.ts'
import type { RouteModule } from '../context.ts'
import { sendError } from '../errors.ts'

/**
 * GET /v1/dead-letters?limit=&cursor= — the key's tenant's rejected events, newest first, with the
 * reason, the field at fault and the bytes as sent. See docs/collector.md.
 */
export const deadLettersRoutes: RouteModule = (app, ctx) => {
  app.get('/v1/dead-letters', { preHandler: ctx.auth.require('read') }, async (req, reply) => {
    const query = parseDeadLetterQuery(req.query)
    if ('code' in query) {
      ctx.metrics.rejectedRequests.inc({ reason: query.code })
      return sendError(reply, query.status, query.code, query.message, query.field)
    }
    const tenant = req.principal?.tenant ?? DEFAULT_TENANT
    return reply.send(await listDeadLetters(ctx.log, ctx.partitions, tenant, query))
  })
}
