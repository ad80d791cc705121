import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { EngineUnavailableError } from '../engine/thread/engine-client.ts'
import type { ApiContext } from './context.ts'
import { errorBody } from './errors.ts'
import { registerOpenApi } from './openapi.ts'
import { collectorRoutes } from './routes/collector.ts'
import { dashboardRoutes } from './routes/dashboard.ts'
import { deadLettersRoutes } from './routes/dead-letters.ts'
import { erasuresRoutes } from './routes/erasures.ts'
import { gameRoutes } from './routes/game.ts'
import { opsRoutes } from './routes/ops.ts'
import { profilesRoutes } from './routes/profiles.ts'
import { profileExportRoutes } from './routes/profile-export.ts'
import { queryRoutes } from './routes/query.ts'
import { segmentsRoutes } from './routes/segments.ts'
import { tenantRulesRoutes } from './routes/tenant-rules.ts'
import { streamsRoutes } from './routes/streams.ts'
import { inboxRoutes } from './routes/inbox.ts'
import { predictionsRoutes } from './routes/predictions.ts'
import { clientErrorHandler, frameworkErrors } from './client-errors.ts'

/** Bodies of routes other than the collector's (docs/api.md, "Resource limits"). */
export const OTHER_BODY_LIMIT = 1024 * 1024

/** Builds the HTTP API on an already wired context. Route modules own their paths. */
export async function buildApp(ctx: ApiContext): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is what Fastify uses inside; only the declared types differ.
    loggerInstance: ctx.logger as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // The collector reads bodies itself (gzip, NDJSON, limits, in-flight budget); other routes take
    // small JSON bodies (a rule, a SQL query), which Fastify buffers outside that budget: 1 MiB caps
    // what a stalled one holds until requestTimeout.
    bodyLimit: Math.min(ctx.config.limits.maxBodyBytes, OTHER_BODY_LIMIT),
    return503OnClosing: true,
    forceCloseConnections: true,
    // Node's whole-request deadline (Fastify's default is none): a backstop against slow bodies and
    // headers on every route; the collector has tighter body timeouts of its own (docs/api.md).
    requestTimeout: ctx.config.http.requestTimeoutMs,
    clientErrorHandler,
    frameworkErrors,
  })
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string; validation?: unknown }, _req, reply) => {
    if (err instanceof EngineUnavailableError) {
      // A dead or stuck engine thread: say so at once (docs/api.md) rather than hang or answer 500.
      ctx.metrics.limitHits.inc({ limit: 'engine_unavailable' })
      void reply.code(503).header('retry-after', String(ctx.config.backpressure.retryAfterSeconds)).send(errorBody('engine_unavailable', err.message))
      return
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    if (status >= 500) ctx.logger.error({ err }, 'request failed')
    const code = err.validation ? 'invalid_request' : status >= 500 ? 'internal' : (err.code ?? 'bad_request').toLowerCase()
    void reply.code(status).send(errorBody(code, status >= 500 ? 'internal error; the request was not applied' : err.message))
  })
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(errorBody('not_found', `no route ${req.method} ${req.url.split('?')[0]}`))
  })
  await registerOpenApi(app)
  for (const routes of [
    opsRoutes,
    collectorRoutes,
    deadLettersRoutes,
    profilesRoutes,
    profileExportRoutes,
    inboxRoutes,
    erasuresRoutes,
    segmentsRoutes,
    tenantRulesRoutes,
    streamsRoutes,
    gameRoutes,
    queryRoutes,
    predictionsRoutes,
    dashboardRoutes,
  ]) {
    await routes(app, ctx)
  }
  return app
}
