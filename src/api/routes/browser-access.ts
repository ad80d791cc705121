import type { FastifyInstance } from 'fastify'
import type { ApiContext } from '../context.ts'
import { sendError } from '../errors.ts'
import { SEGMENT_SETTINGS_PARAMS, SEGMENT_SETTINGS_RESPONSES } from '../schemas/segment.ts'

/**
 * What a web page needs to send events from another origin (docs/segment.md, "In the browser"):
 *
 * - CORS on the collector's routes: every origin may post (`Access-Control-Allow-Origin: *`, no
 *   credentials: the key travels in the Authorization header or the body, never in a cookie), and
 *   a preflight `OPTIONS` is answered 204 for each of them.
 * - Segment's settings document, `GET /v1/projects/:writeKey/settings`, which analytics-next loads
 *   from its `cdnURL` before it sends anything: it points the library's Segment.io destination at
 *   this server.
 */
export const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  // X-Retry-Count: analytics-next numbers its retries in it.
  'access-control-allow-headers': 'Authorization, Content-Type, Content-Encoding, X-API-Key, X-Retry-Count',
  'access-control-expose-headers': 'Retry-After',
  'access-control-max-age': '600',
} as const

/** Adds CORS to every route of `scope`, and a preflight answer for each of `paths`. */
export function allowBrowsers(scope: FastifyInstance, paths: readonly string[]): void {
  scope.addHook('onRequest', async (req, reply) => {
    if (req.headers.origin === undefined) return
    reply.header('access-control-allow-origin', CORS_HEADERS['access-control-allow-origin'])
    reply.header('access-control-expose-headers', CORS_HEADERS['access-control-expose-headers'])
  })
  for (const path of new Set(paths)) {
    scope.options(path, { schema: { hide: true } }, (_req, reply) => reply.code(204).headers(CORS_HEADERS).send())
  }
}

/** Host header values this server will write into a settings document: a host name or address and a port. */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

export function segmentSettingsRoute(scope: FastifyInstance, ctx: ApiContext): string {
  const path = '/v1/projects/:writeKey/settings'
  scope.get<{ Params: { writeKey: string } }>(
    path,
    {
      schema: {
        operationId: 'segmentSettings',
        summary: "Segment's settings document for analytics-next: sends its events to this server",
        description:
          'Point `AnalyticsBrowser.load({ writeKey, cdnURL })` at this server; the write key must be a key with the `write` scope (anything else is a 404). See docs/segment.md, "In the browser".',
        tags: ['segment'],
        params: SEGMENT_SETTINGS_PARAMS,
      },
      config: { openapi: { response: SEGMENT_SETTINGS_RESPONSES } },
    },
    async (req, reply) => {
      const key = req.params.writeKey
      // One answer for unknown keys and keys that may not write: the page learns nothing else.
      if ('code' in ctx.auth.admit(key, 'write')) return sendError(reply, 404, 'not_found', 'no project for this write key', 'writeKey')
      const host = req.headers.host ?? ''
      if (!HOST.test(host)) return sendError(reply, 400, 'invalid_host', 'the Host header must be host[:port] to build the settings document', 'host')
      reply.header('cache-control', 'no-cache').header('vary', 'Host')
      return segmentSettings(key, `${host}/v1`, req.protocol)
    },
  )
  return path
}

/**
 * The fields analytics-next reads (1.84): the Segment.io destination's key, host and protocol;
 * `metrics.sampleRate: 0` so the library sends no telemetry of its own to Segment; no remote
 * plugins or middleware, so it loads nothing more.
 */
export function segmentSettings(writeKey: string, apiHost: string, protocol: string): Record<string, unknown> {
  return {
    integrations: { 'Segment.io': { apiKey: writeKey, apiHost, protocol } },
    plan: { track: { __default: { enabled: true } }, identify: { __default: { enabled: true } }, group: { __default: { enabled: true } } },
    edgeFunction: {},
    analyticsNextEnabled: true,
    middlewareSettings: {},
    enabledMiddleware: {},
    metrics: { sampleRate: 0 },
    legacyVideoPluginsEnabled: false,
    remotePlugins: [],
  }
}
