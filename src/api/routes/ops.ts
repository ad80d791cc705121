import type { RouteModule } from '../context.ts'
import { NO_SECURITY } from '../openapi.ts'
import { REFUSED_BEFORE_ROUTING, textResponse } from '../schemas/common.ts'
import { observeHttpDuration, readiness, refreshEngineGauges } from '../ops/index.ts'

const TAGS = ['operations']

// Answers are documented in config.openapi (see DocumentOnly in openapi.ts), never compiled into serializers.
const healthSchema = {
  operationId: 'health',
  summary: 'Liveness: 200 while the process serves requests',
  description: 'Answers 200 as long as the HTTP server runs; 503 once it is shutting down. Restart the process when this fails.',
  tags: TAGS,
  security: NO_SECURITY,
}

const healthResponses = {
  200: { type: 'object', description: 'The process serves requests', properties: { status: { type: 'string', enum: ['ok'] } }, required: ['status'] },
  ...REFUSED_BEFORE_ROUTING,
}

const readySchema = {
  operationId: 'ready',
  summary: 'Readiness: 200 while the engine runs and has not failed',
  description: 'Send traffic (and reads) here only while this answers 200. `lag` is the total number of events in the log not yet processed (a backlog does not make the server unready).',
  tags: TAGS,
  security: NO_SECURITY,
}

const readyResponses = {
  200: {
    type: 'object',
    description: 'The engine runs',
    properties: { status: { type: 'string', enum: ['ready'] }, lag: { type: 'integer' }, partitions: { type: 'integer' } },
    required: ['status', 'lag', 'partitions'],
  },
  503: {
    type: 'object',
    description: '`starting` while the engine thread starts (restoring checkpoints, compiling rules); `failed` (with the error) when it stopped',
    properties: { status: { type: 'string', enum: ['starting', 'failed'] }, error: { type: ['string', 'null'] } },
    required: ['status', 'error'],
  },
  ...REFUSED_BEFORE_ROUTING,
}

const metricsSchema = {
  operationId: 'metrics',
  summary: 'Prometheus metrics (text exposition format 0.0.4)',
  description: 'Engine gauges are refreshed from the engine snapshot on every scrape. Every metric is described in docs/operations.md.',
  tags: TAGS,
  security: NO_SECURITY,
}

const metricsResponses = { 200: textResponse('Prometheus text format', ['text/plain']), ...REFUSED_BEFORE_ROUTING }

/** Health, readiness and metrics: open to anyone (no API key), so probes and scrapers need no secret. */
export const opsRoutes: RouteModule = (app, ctx) => {
  // Added on the root instance before the other route modules run, so it applies to all of them.
  observeHttpDuration(app, ctx.metrics)

  app.get('/healthz', { schema: healthSchema, config: { openapi: { response: healthResponses } } }, async () => ({ status: 'ok' as const }))

  app.get('/readyz', { schema: readySchema, config: { openapi: { response: readyResponses } } }, async (_req, reply) => {
    const { statusCode, body } = readiness(ctx.engine.snapshot())
    return reply.code(statusCode).header('cache-control', 'no-store').send(body)
  })

  app.get('/metrics', { schema: metricsSchema, config: { openapi: { response: metricsResponses } } }, async (_req, reply) => {
    refreshEngineGauges(ctx.metrics, ctx.engine.snapshot())
    const text = await ctx.metrics.registry.metrics()
    return reply.header('cache-control', 'no-store').type(ctx.metrics.registry.contentType).send(text)
  })
}
