import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ApiMetrics } from '../metrics.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * `false` leaves the route out of tagstream_http_request_duration_seconds: for long-lived
     * responses (Server-Sent Events), whose duration is a connection's lifetime, not a latency.
     */
    httpDurationMetric?: boolean
  }
}

/** Label for requests no route matched (404s): raw URLs would make one series per URL. */
export const UNMATCHED_ROUTE = 'unmatched'

/** The route pattern (`/v1/profiles/:user_id`), never the raw URL, to keep label cardinality bounded. */
export function routeLabel(req: FastifyRequest): string {
  // routeOptions.url is undefined when the not-found handler answered.
  const url: string | undefined = req.routeOptions.url
  return url === undefined || url === '' ? UNMATCHED_ROUTE : url
}

/**
 * Observes every response in tagstream_http_request_duration_seconds. Added on the root instance
 * before the other route modules run, so every route they add, in any encapsulated context, and
 * the not-found handler inherit it (test/api/ops-app.test.ts checks this).
 */
export function observeHttpDuration(app: FastifyInstance, metrics: ApiMetrics): void {
  app.addHook('onResponse', async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.routeOptions.config?.httpDurationMetric === false) return
    metrics.httpDuration.observe({ route: routeLabel(req), method: req.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000)
  })
}
