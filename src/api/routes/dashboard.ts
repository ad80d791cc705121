import type { FastifyReply, FastifyRequest } from 'fastify'
import { RuleError } from '../../rules/index.ts'
import type { SegmentInput } from '../../engine/thread/protocol.ts'
import type { RouteModule } from '../context.ts'
import {
  DEFAULT_SAMPLER,
  LiveStreams,
  StaticFiles,
  StatsSampler,
  acceptsGzip,
  bundleExists,
  isAssetName,
  recentChanges,
  recentEvents,
  validateSegment,
  webDir,
  type SamplerOptions,
  type StaticFile,
} from '../dashboard/index.ts'
import { sendError } from '../errors.ts'
import { NO_SECURITY } from '../openapi.ts'
import { needs } from '../schemas/common.ts'
import {
  ASSET_PARAMS,
  ASSET_RESPONSES,
  INDEX_RESPONSES,
  LIVE_RESPONSES,
  PROFILE_EVENTS_PARAMS,
  PROFILE_EVENTS_QUERY,
  PROFILE_EVENTS_RESPONSES,
  RECENT_CHANGES_QUERY,
  RECENT_CHANGES_RESPONSES,
  VALIDATE_PARAMS,
  VALIDATE_RESPONSES,
} from '../schemas/dashboard.ts'
import { SEGMENT_INPUT } from '../schemas/segments.ts'
import { parseNameList } from '../streams/records.ts'
import { StreamSlots } from '../streams/slots.ts'
import { parseLimit } from './profile-query.ts'
import { ruleErrorBody } from './segment-input.ts'

export interface DashboardRouteOptions {
  /** The built bundle. Default config.webDir (TAGSTREAM_WEB_DIR), else web/dist. */
  dir?: string
  sampler?: Partial<SamplerOptions>
  /** Open live streams at once, all tenants; more get 503. Default config.streams.dashboardTotal (64). */
  maxLiveClients?: number
}

/** Log records read back per partition for the dashboard's feeds: bounded work per request. */
const CHANGES_SCAN = 1_000
const EVENTS_SCAN = 5_000

/**
 * The page may load nothing but its own files and talk to nothing but this server. uPlot sizes
 * its elements through the style attribute, hence 'unsafe-inline' for styles only.
 */
const DASHBOARD_CSP = [
  "default-src 'self'",
  "base-uri 'none'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
].join('; ')

const TAGS = ['dashboard']

/** The web dashboard (web/dist at `/`) and the few read-only routes only it needs. */
export function createDashboardRoutes(options: DashboardRouteOptions = {}): RouteModule {
  return (app, ctx) => {
    const dir = options.dir ?? webDir(ctx.config.webDir)
    const files = new StaticFiles(dir)
    if (bundleExists(dir)) ctx.logger.info({ dir }, 'dashboard served at /')
    else ctx.logger.warn({ dir }, 'dashboard bundle missing: / answers 503 until it is built; run "npm run build:web"')

    const stats = new StatsSampler(ctx, { ...DEFAULT_SAMPLER, ...options.sampler })
    const live = new LiveStreams(stats, ctx.partitions, options.maxLiveClients ?? ctx.config.streams.dashboardTotal)
    // A per-tenant cap beside the global one: one tenant's 64 tabs must not lock out every other tenant.
    const slots = new StreamSlots('dashboard live', ctx.config.streams.dashboardPerTenant, live.maxClients, {
      size: (open) => ctx.metrics.openStreams.set({ kind: 'dashboard' }, open),
      refused: (limit) => ctx.metrics.limitHits.inc({ limit: limit === 'tenant' ? 'dashboard_streams_per_tenant' : 'dashboard_streams_total' }),
    })
    stats.start()
    app.addHook('onClose', async () => {
      stats.stop()
      live.closeAll()
    })

    const send = (req: FastifyRequest, reply: FastifyReply, file: StaticFile, cacheControl: string) => {
      void reply.header('etag', file.etag).header('cache-control', cacheControl).header('x-content-type-options', 'nosniff').header('vary', 'accept-encoding')
      if (req.headers['if-none-match'] === file.etag) return reply.code(304).send()
      void reply.type(file.type)
      if (file.gzip !== null && acceptsGzip(req.headers['accept-encoding'])) return reply.header('content-encoding', 'gzip').send(file.gzip)
      return reply.send(file.body)
    }

    app.get(
      '/',
      { schema: { operationId: 'dashboardPage', summary: 'The dashboard (the built web bundle)', tags: TAGS, security: NO_SECURITY }, config: { openapi: { response: INDEX_RESPONSES } } },
      async (req, reply) => {
        const file = await files.get('index.html')
        if (file === null) return sendError(reply, 503, 'dashboard_not_built', `the dashboard bundle is missing (${dir}/index.html); run "npm run build:web"`)
        void reply.header('content-security-policy', DASHBOARD_CSP).header('referrer-policy', 'no-referrer')
        // Revalidated on every load (a cheap 304), so a rebuilt bundle shows up at once.
        return send(req, reply, file, 'no-cache')
      },
    )

    app.get<{ Params: { file: string } }>(
      '/assets/:file',
      {
        schema: {
          operationId: 'dashboardAsset',
          summary: "The dashboard's scripts and styles (content-hashed names, cached for a year)",
          tags: TAGS,
          security: NO_SECURITY,
          params: ASSET_PARAMS,
        },
        config: { openapi: { response: ASSET_RESPONSES } },
      },
      async (req, reply) => {
        const name = req.params.file
        const file = isAssetName(name) ? await files.get(`assets/${name}`) : null
        if (file === null) return sendError(reply, 404, 'not_found', `no dashboard asset "${name.length > 100 ? `${name.slice(0, 100)}…` : name}"`)
        return send(req, reply, file, 'public, max-age=31536000, immutable')
      },
    )

    const read = ctx.auth.require('read')

    app.get(
      '/v1/dashboard/live',
      {
        preHandler: read,
        config: { httpDurationMetric: false, openapi: { response: LIVE_RESPONSES } },
        schema: {
          operationId: 'dashboardLive',
          summary: 'Live server stats as Server-Sent Events: a `hello` frame with recent history, then a `sample` frame every second',
          description:
            needs('read') +
            " Events/s accepted and rejected (the key's tenant), bytes/s, duplicates/s, engine processing rate and lag per partition (server), and the tenant's segment sizes. See docs/dashboard.md.",
          tags: TAGS,
        },
      },
      async (req, reply) => {
        const release = slots.acquire(req.principal!.tenant, ctx.config.backpressure.retryAfterSeconds)
        if (typeof release !== 'function') return sendError(reply.header('retry-after', String(release.retryAfter)), release.status, release.code, release.message)
        live.open(reply, req.principal!.tenant, release)
        return reply
      },
    )

    app.get<{ Querystring: { limit?: string; segment?: string } }>(
      '/v1/dashboard/recent-changes',
      {
        preHandler: read,
        schema: {
          operationId: 'dashboardRecentChanges',
          summary: "The tenant's latest segment entries and exits, and the cursor to follow GET /v1/segment-changes from",
          description: needs('read'),
          tags: TAGS,
          querystring: RECENT_CHANGES_QUERY,
        },
        config: { openapi: { response: RECENT_CHANGES_RESPONSES } },
      },
      async (req, reply) => {
        const limit = parseLimit(req.query.limit, 50, 500)
        if (!limit.ok) return sendError(reply, 400, 'invalid_query', limit.message, 'limit')
        return recentChanges(ctx.log, ctx.partitions, req.principal!.tenant, parseNameList(req.query.segment), limit.value, CHANGES_SCAN)
      },
    )

    app.get<{ Params: { user_id: string }; Querystring: { limit?: string } }>(
      '/v1/dashboard/profiles/:user_id/events',
      {
        preHandler: read,
        schema: {
          operationId: 'dashboardProfileEvents',
          summary: "A user's latest events, newest first, read from the tail of their log partition",
          description: needs('read'),
          tags: TAGS,
          params: PROFILE_EVENTS_PARAMS,
          querystring: PROFILE_EVENTS_QUERY,
        },
        config: { openapi: { response: PROFILE_EVENTS_RESPONSES } },
      },
      async (req, reply) => {
        const limit = parseLimit(req.query.limit, 20, 100)
        if (!limit.ok) return sendError(reply, 400, 'invalid_query', limit.message, 'limit')
        return recentEvents(ctx.log, ctx.partitions, req.principal!.tenant, req.params.user_id, limit.value, EVENTS_SCAN)
      },
    )

    app.post<{ Params: { id: string }; Body: SegmentInput }>(
      '/v1/dashboard/segments/:id/validate',
      {
        preHandler: read,
        schema: {
          operationId: 'dashboardValidateSegment',
          summary: 'Check a segment rule as PUT /v1/segments/:id would, without applying it',
          description: needs('read', '200 `{"valid":true,"metrics":[…]}`; 400 `invalid_rule` with `line` and `column`, the same body PUT answers with.'),
          tags: TAGS,
          params: VALIDATE_PARAMS,
          body: SEGMENT_INPUT,
        },
        config: { openapi: { response: VALIDATE_RESPONSES } },
      },
      async (req, reply) => {
        try {
          return validateSegment(req.params.id, req.body, await ctx.engine.traits())
        } catch (err) {
          if (err instanceof RuleError) return reply.code(400).send(ruleErrorBody(err))
          throw err
        }
      },
    )
  }
}

export const dashboardRoutes: RouteModule = createDashboardRoutes()
