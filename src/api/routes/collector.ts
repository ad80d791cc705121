import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Collector } from '../collector/index.ts'
import { errorBody } from '../errors.ts'
import type { ApiContext, RouteModule } from '../context.ts'
import { needs } from '../schemas/common.ts'
import { posthogRoutes, segmentSpecRoutes } from './segment-spec.ts'
import { allowBrowsers, segmentSettingsRoute } from './browser-access.ts'
import { EVENTS_BODY, EVENTS_RESPONSES, TRACK_BODY, TRACK_RESPONSES } from '../schemas/collector.ts'

/**
 * POST /v1/events (a batch: JSON array, {"batch": [...]} or NDJSON) and POST /v1/track (one event).
 * Both read their raw body themselves — gzip, NDJSON, size limits, exact bytes for dead letters — so
 * they live in their own scope where one catch-all content-type parser leaves the body unread.
 * See docs/collector.md.
 */
export const collectorRoutes: RouteModule = async (app, ctx) => {
  const collector = new Collector(ctx)
  await app.register(async (scope) => collectorScope(scope, ctx, collector))
}

async function collectorScope(scope: FastifyInstance, ctx: ApiContext, collector: Collector): Promise<void> {
  scope.removeAllContentTypeParsers()
  scope.addContentTypeParser('*', leaveUnread)
  scope.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    // Fastify refuses a malformed Content-Type header before the handler runs.
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      ctx.metrics.rejectedRequests.inc({ reason: 'unsupported_media_type' })
      return reply.code(415).type('application/json').send(errorBody('unsupported_media_type', 'malformed Content-Type; send application/json or application/x-ndjson'))
    }
    throw err
  })
  // Auth answers 401/403 itself; count those refusals with the collector's own.
  scope.addHook('onResponse', async (_req, reply) => {
    if (reply.statusCode === 401) ctx.metrics.rejectedRequests.inc({ reason: 'unauthorized' })
    else if (reply.statusCode === 403) ctx.metrics.rejectedRequests.inc({ reason: 'forbidden' })
  })
  const write = ctx.auth.require('write')
  // Bodies and answers are in config.openapi, the document's alone (see DocumentOnly in openapi.ts):
  // a schema.body would have Fastify validate what leaveUnread left undefined, and the collector's
  // answers to bad bodies (and its speed) are its own.
  const tags = ['collector']
  scope.post(
    '/v1/events',
    {
      preHandler: write,
      schema: {
        operationId: 'sendEvents',
        summary: 'Send a batch of events',
        description: needs(
          'write',
          'A JSON array, `{"batch": [...]}`, one event, or NDJSON. Answers once every accepted event is durable; bad events are listed in `rejected` and kept as dead letters. See docs/collector.md.',
        ),
        tags,
      },
      config: { openapi: { body: EVENTS_BODY, response: EVENTS_RESPONSES } },
    },
    (req, reply) => collector.handle(req, reply, 'events'),
  )
  scope.post(
    '/v1/track',
    {
      preHandler: write,
      schema: {
        operationId: 'trackEvent',
        summary: 'Send one event',
        description: needs('write', 'Exactly one event as a JSON object; a bad event is a 400 `invalid_event` (and a dead letter).'),
        tags,
      },
      config: { openapi: { body: TRACK_BODY, response: TRACK_RESPONSES } },
    },
    (req, reply) => collector.handle(req, reply, 'track'),
  )
  const segment = segmentSpecRoutes(scope, collector, write)
  const posthog = posthogRoutes(scope, collector)
  const settings = segmentSettingsRoute(scope, ctx)
  allowBrowsers(scope, ['/v1/events', '/v1/track', ...segment, ...posthog, settings])
}

/** The handler reads req.raw itself, after auth and backpressure: nothing is read here. */
function leaveUnread(_req: FastifyRequest, _payload: unknown, done: (err: Error | null, body?: unknown) => void): void {
  done(null, undefined)
}
