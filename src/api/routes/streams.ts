import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ApiContext, RouteModule } from '../context.ts'
import { sendError } from '../errors.ts'
import { needs } from '../schemas/common.ts'
import { streamQuery, streamResponses } from '../schemas/streams.ts'
import { CursorError } from '../streams/cursor.ts'
import { NOTIFICATIONS, SEGMENT_CHANGES, type StreamKind } from '../streams/kinds.ts'
import { parseNameList } from '../streams/records.ts'
import { StreamSession } from '../streams/session.ts'
import { StreamSlots } from '../streams/slots.ts'
import { SSE_HEADERS, SseWriter } from '../streams/sse.ts'
import { resolveStart } from '../streams/start.ts'

export interface StreamsRouteOptions {
  /** Interval of the `: keep-alive` comment. Default config.sseHeartbeatMs (15 s). */
  heartbeatMs?: number
  /** How long a read parks at a partition's end; appends wake it at once. Default 500 ms. */
  pollWaitMs?: number
  /** Records per read. Default 1,000. */
  maxRecords?: number
  /** Reconnect delay suggested to clients (`retry:`). Default 1 s. */
  retryMs?: number
}

/** Live segment changes and notifications as Server-Sent Events, resumable by cursor. */
export function createStreamsRoutes(options: StreamsRouteOptions = {}): RouteModule {
  return (app, ctx) => {
    const settings = {
      heartbeatMs: options.heartbeatMs ?? ctx.config.sseHeartbeatMs,
      pollWaitMs: options.pollWaitMs ?? 500,
      maxRecords: options.maxRecords ?? 1_000,
      retryMs: options.retryMs ?? 1_000,
    }
    const sessions = new Set<StreamSession>()
    // One pool for both kinds: each stream costs the same (a parked read per partition).
    const { ssePerTenant, sseTotal } = ctx.config.streams
    const slots = new StreamSlots('segment-changes/notifications', ssePerTenant, sseTotal, {
      size: (open) => ctx.metrics.openStreams.set({ kind: 'sse' }, open),
      refused: (limit) => ctx.metrics.limitHits.inc({ limit: limit === 'tenant' ? 'sse_streams_per_tenant' : 'sse_streams_total' }),
    })
    // Hijacked responses are invisible to Fastify: end them ourselves and wait for their read loops,
    // so nothing reads the log after the server closes it.
    app.addHook('onClose', async () => {
      const open = [...sessions]
      for (const s of open) s.stop()
      await Promise.all(open.map((s) => s.done))
    })

    const route = (kind: StreamKind, filterParam: 'segment' | 'trigger') =>
      app.get(
        `/v1/${kind.name}`,
        {
          preHandler: ctx.auth.require('read'),
          schema: {
            operationId: kind === SEGMENT_CHANGES ? 'streamSegmentChanges' : 'streamNotifications',
            tags: ['streams'],
            summary: `Live ${kind.name} of the key's tenant as Server-Sent Events (event: ${kind.event})`,
            description: needs('read', 'Reconnect with `Last-Event-ID` (or `?from=`) to resume where the stream stopped. See docs/streams.md.'),
            querystring: streamQuery(filterParam),
          },
          config: { openapi: { response: streamResponses(kind.event) } },
        },
        (req, reply) => openStream(ctx, settings, sessions, slots, kind, filterParam, req, reply),
      )
    route(SEGMENT_CHANGES, 'segment')
    route(NOTIFICATIONS, 'trigger')
  }
}

export const streamsRoutes: RouteModule = createStreamsRoutes()

async function openStream(
  ctx: ApiContext,
  settings: Required<StreamsRouteOptions>,
  sessions: Set<StreamSession>,
  slots: StreamSlots,
  kind: StreamKind,
  filterParam: 'segment' | 'trigger',
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const tenant = req.principal?.tenant
  if (tenant === undefined) return void sendError(reply, 401, 'unauthorized', 'missing API key')
  const query = (req.query ?? {}) as Record<string, unknown>
  // A browser's EventSource reconnects to the same URL (with its ?from=) and adds Last-Event-ID:
  // the header is the newer position, so it wins.
  const header = req.headers['last-event-id']
  const from = typeof header === 'string' && header.trim() !== '' ? header.trim() : query.from
  if (from !== undefined && typeof from !== 'string') return void sendError(reply, 400, 'invalid_cursor', 'give "from" once', 'from')
  const release = slots.acquire(tenant, ctx.config.backpressure.retryAfterSeconds)
  if (typeof release !== 'function') {
    void reply.header('retry-after', String(release.retryAfter))
    return void sendError(reply, release.status, release.code, release.message)
  }
  let start: number[]
  try {
    start = await resolveStart(ctx.log, kind, ctx.partitions, from === undefined || from === '' ? 'now' : from)
  } catch (err) {
    release()
    if (err instanceof CursorError) return void sendError(reply, 400, 'invalid_cursor', err.message, typeof header === 'string' && header.trim() !== '' ? 'Last-Event-ID' : 'from')
    throw err
  }

  reply.hijack()
  reply.raw.writeHead(200, SSE_HEADERS)
  // Headers now, not with the first event: the client knows the stream is open.
  reply.raw.flushHeaders()
  // Listen on the response, not req.raw: a request's 'close' also fires once its (empty) body is read.
  const writer = new SseWriter(reply.raw)
  const session = new StreamSession({
    log: ctx.log,
    logger: ctx.logger,
    kind,
    start,
    filter: { tenant, only: parseNameList(query[filterParam]) },
    writer,
    heartbeatMs: settings.heartbeatMs,
    pollWaitMs: settings.pollWaitMs,
    maxRecords: settings.maxRecords,
    retryMs: settings.retryMs,
  })
  sessions.add(session)
  // The slot is held until the read loops have ended, not only the socket: they are the cost.
  void session.done.then(() => {
    sessions.delete(session)
    writer.end()
    release()
  })
}
