import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ApiContext, RouteModule } from '../context.ts'
import { sendError } from '../errors.ts'
import { AUTH_ERRORS, errorResponse, needs } from '../schemas/common.ts'
import { EVENT_STREAM_LIST, streamQuery, streamResponses } from '../schemas/streams.ts'
import { CursorError } from '../streams/cursor.ts'
import { eventStreamKind, NOTIFICATIONS, PLAYER_NOTIFICATIONS, SEGMENT_CHANGES, type StreamKind } from '../streams/kinds.ts'
import { eventStreamTopic } from '../../log/event-log.ts'
import { effectiveStreams } from '../../rules/index.ts'
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

/** Live output logs as Server-Sent Events, resumable by cursor: segment changes, notifications, player notifications, event streams. */
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
    const slots = new StreamSlots('SSE', ssePerTenant, sseTotal, {
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

    const open = (kind: StreamKind, req: FastifyRequest, reply: FastifyReply) => openStream(ctx, settings, sessions, slots, kind, req, reply)
    const route = (kind: StreamKind, operationId: string) =>
      app.get(
        `/v1/${kind.path}`,
        {
          preHandler: ctx.auth.require('read'),
          schema: {
            operationId,
            tags: ['streams'],
            summary: `Live ${kind.name} of the key's tenant as Server-Sent Events (event: ${kind.event})`,
            description: needs('read', 'Reconnect with `Last-Event-ID` (or `?from=`) to resume where the stream stopped. See docs/streams.md.'),
            querystring: streamQuery(kind.field),
          },
          config: { openapi: { response: streamResponses(kind.event) } },
        },
        (req, reply) => open(kind, req, reply),
      )
    route(SEGMENT_CHANGES, 'streamSegmentChanges')
    route(NOTIFICATIONS, 'streamNotifications')
    route(PLAYER_NOTIFICATIONS, 'streamPlayerNotifications')

    // Event streams are the rules file's (docs/streams.md, "Event streams"): listed, then one route for all.
    const eventStreams = ctx.eventStreams ?? effectiveStreams(undefined)
    app.get(
      '/v1/event-streams',
      {
        preHandler: ctx.auth.require('read'),
        schema: {
          operationId: 'listEventStreams',
          tags: ['streams'],
          summary: 'The event streams of this server: name, log (Kafka topic), events, SSE path',
          description: needs('read', "Defined by the rules file's `streams:` section; `buy` and `social` unless it turns them off. See docs/streams.md."),
          response: { 200: EVENT_STREAM_LIST, ...AUTH_ERRORS },
        },
      },
      async () => ({
        streams: eventStreams.map((s) => ({
          name: s.name,
          topic: eventStreamTopic(s.name),
          events: s.events,
          path: `/v1/event-streams/${s.name}`,
          ...(s.description === undefined ? {} : { description: s.description }),
        })),
      }),
    )
    app.get(
      '/v1/event-streams/:stream',
      {
        preHandler: ctx.auth.require('read'),
        schema: {
          operationId: 'streamEvents',
          tags: ['streams'],
          summary: "Live events of one event stream of the key's tenant as Server-Sent Events (event: event)",
          description: needs('read', 'Reconnect with `Last-Event-ID` (or `?from=`) to resume. See docs/streams.md, "Event streams".'),
          params: { type: 'object', properties: { stream: { type: 'string', description: 'The stream name, e.g. buy' } }, required: ['stream'] },
          querystring: streamQuery('event'),
        },
        config: { openapi: { response: { ...streamResponses('event'), 404: errorResponse('`unknown_stream`: no event stream by that name') } } },
      },
      (req, reply) => {
        const name = (req.params as { stream: string }).stream
        const stream = eventStreams.find((s) => s.name === name)
        if (stream === undefined)
          return void sendError(
            reply,
            404,
            'unknown_stream',
            `no event stream "${name.slice(0, 80)}"; this server has ${eventStreams.map((s) => s.name).join(', ') || 'none'} (GET /v1/event-streams)`,
            'stream',
          )
        return open(eventStreamKind(stream.name), req, reply)
      },
    )
  }
}

export const streamsRoutes: RouteModule = createStreamsRoutes()

async function openStream(
  ctx: ApiContext,
  settings: Required<StreamsRouteOptions>,
  sessions: Set<StreamSession>,
  slots: StreamSlots,
  kind: StreamKind,
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
    filter: { tenant, only: parseNameList(query[kind.field]) },
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
