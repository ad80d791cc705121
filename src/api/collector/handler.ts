import type { FastifyReply, FastifyRequest } from 'fastify'
import { DEFAULT_TENANT } from '../../events/index.ts'
import { appendDeadLetters } from '../../ingest/dead-letters.ts'
import type { ApiContext } from '../context.ts'
import { errorBody } from '../errors.ts'
import { checkBackpressure } from './backpressure.ts'
import { bodyText, contentEncoding, decodeContent, mediaFormat, readRequestBody, tooLarge } from './body.ts'
import type { Deduper } from '../../ingest/dedupe.ts'
import { failure, type RequestFailure } from './failure.ts'
import { InflightBudget, Reservation } from './inflight.ts'
import { encodeEventsBody } from './fast-path.ts'
import { RequestIds } from './ids.ts'
import { appendEncodedBody, appendSorted, deadLetter, sortBatch, type IngestResult, type RejectedEvent } from './ingest.ts'
import { ParsedBody, emptyBody, parseEventsJson, parseNdjson, parseTrackJson } from './parse.ts'

export type CollectorRoute = 'events' | 'track'

/** Request-level errors whose body is kept in the dead-letter log (index −1): the bytes were sent, just unusable. */
const KEEP_BODY = new Set(['invalid_json', 'invalid_body', 'invalid_utf8', 'invalid_gzip'])


/**
 * The collector's request handling, one instance per server (it owns the de-duplication horizon).
 *
 * Order, cheapest refusal first and nothing read before it is needed (auth has already run as the
 * route's preHandler): media type and encoding (415), declared size (413), backpressure (429/503),
 * read with limit (413), gunzip with limit (400/413), UTF-8 (400), parse (400/413), then validate,
 * de-duplicate, append events and dead letters, and only when both are durable answer 200.
 */
export class Collector {
  readonly deduper: Deduper
  /** config.collectorFastPath: false turns the byte-level fast path off (A/B benchmarks, or a suspected bug in it). */
  readonly fastPath: boolean

  /** Bytes of bodies in flight, in all (mirrored in ctx.inflight) and per tenant. */
  readonly inflight: InflightBudget

  constructor(private readonly ctx: ApiContext) {
    this.deduper = ctx.deduper
    this.fastPath = ctx.config.collectorFastPath
    this.inflight = new InflightBudget(() => ctx.config.backpressure, ctx.inflight)
  }

  async handle(req: FastifyRequest, reply: FastifyReply, route: CollectorRoute): Promise<FastifyReply> {
    const { ctx } = this
    const tenant = req.principal?.tenant ?? DEFAULT_TENANT
    const headers = req.headers
    const maxBytes = ctx.config.limits.maxBodyBytes
    if (headers['content-type'] === undefined && noBody(req)) return this.refuse(reply, emptyBody())
    const format = mediaFormat(headers['content-type'], route === 'events')
    if (typeof format !== 'string') return this.refuse(reply, format)
    const encoding = contentEncoding(headers['content-encoding'])
    if (typeof encoding !== 'string') return this.refuse(reply, encoding)

    const declared = Number(headers['content-length']) || 0
    if (declared > maxBytes) {
      req.raw.resume()
      return this.refuse(reply, tooLarge(maxBytes))
    }
    const refusal = checkBackpressure(ctx.inflight.bytes, declared, ctx.engine.snapshot(), ctx.config.backpressure) ?? this.inflight.check(tenant, 0, declared)
    if (refusal) {
      req.raw.resume()
      ctx.metrics.throttled.inc({ status: String(refusal.status) })
      return this.refuse(reply, refusal)
    }
    // Memory held by this request counts against the in-flight budget (the whole server's and its
    // tenant's) until its append is durable; a chunked body's reservation grows as it arrives.
    const reservation = new Reservation(this.inflight, tenant)
    reservation.growTo(declared)
    try {
      const { bodyTimeoutMs, bodyIdleTimeoutMs } = ctx.config.http
      const raw = await readRequestBody(req.raw, maxBytes, { grow: (total) => reservation.growTo(total), timeoutMs: bodyTimeoutMs, idleTimeoutMs: bodyIdleTimeoutMs })
      if (!Buffer.isBuffer(raw)) {
        if (raw.status === 429) ctx.metrics.throttled.inc({ status: '429' })
        return this.refuse(reply, raw)
      }
      ctx.metrics.ingestBytes.inc(raw.length)
      if (raw.length === 0) return this.refuse(reply, emptyBody())
      const receivedAt = Date.now()
      const bytes = await decodeContent(raw, encoding, maxBytes)
      if (!Buffer.isBuffer(bytes)) return await this.refuseBody(reply, bytes, tenant, receivedAt, raw)
      // Decompressed bytes are held too; they were admitted with the body, so they are counted, not refused.
      reservation.force(bytes.length)
      if (this.fastPath && format === 'json' && route === 'events') {
        const ids = new RequestIds(receivedAt)
        const fast = encodeEventsBody(bytes, { tenant, receivedAt, partitions: ctx.partitions, maxEvents: ctx.config.limits.maxEvents, deduper: this.deduper, ids })
        if (fast !== null) {
          ctx.metrics.parsedEvents.inc({ path: 'validated' }, fast.slow)
          ctx.metrics.parsedEvents.inc({ path: 'fast' }, fast.count + fast.duplicates + fast.rejected.length - fast.slow)
          const append = () => appendEncodedBody(ctx.log, ctx.partitions, fast, this.deduper)
          return await this.answer(reply, route, tenant, append, fast.count, fast.duplicates, fast.rejected)
        }
      }
      const parsed = this.parse(route, format, bytes)
      if (!(parsed instanceof ParsedBody)) return await this.refuseBody(reply, parsed, tenant, receivedAt, bytes)
      return await this.ingest(reply, route, parsed, tenant, receivedAt)
    } finally {
      reservation.release()
    }
  }

  private parse(route: CollectorRoute, format: 'json' | 'ndjson', bytes: Buffer): ParsedBody | RequestFailure {
    const maxEvents = this.ctx.config.limits.maxEvents
    const text = bodyText(bytes)
    // NDJSON with bad UTF-8 is cut into lines from the bytes: only the bad lines are rejected.
    if (format === 'ndjson') return parseNdjson(typeof text === 'string' ? text : null, bytes, maxEvents)
    if (typeof text !== 'string') return text
    return route === 'track' ? parseTrackJson(text, bytes) : parseEventsJson(text, bytes, maxEvents)
  }

  private ingest(reply: FastifyReply, route: CollectorRoute, body: ParsedBody, tenant: string, receivedAt: number): Promise<FastifyReply> {
    const sorted = sortBatch(body, tenant, receivedAt, this.deduper)
    this.ctx.metrics.parsedEvents.inc({ path: 'validated' }, sorted.events.length + sorted.duplicates + sorted.rejected.length)
    const append = () => appendSorted(this.ctx.log, this.ctx.partitions, sorted, this.deduper)
    return this.answer(reply, route, tenant, append, sorted.events.length, sorted.duplicates, sorted.rejected)
  }

  /** Appends a sorted request and answers once it is durable. */
  private async answer(
    reply: FastifyReply,
    route: CollectorRoute,
    tenant: string,
    append: () => Promise<void>,
    accepted: number,
    duplicates: number,
    rejected: RejectedEvent[],
  ): Promise<FastifyReply> {
    const { ctx } = this
    try {
      await append()
    } catch (err) {
      ctx.logger.error({ err }, 'collector append failed')
      const f = failure(503, 'log_unavailable', `the event log did not confirm the append (${(err as Error).message}); nothing is acknowledged — retry the request`)
      return this.refuse(reply, { ...f, retryAfter: ctx.config.backpressure.retryAfterSeconds })
    }
    if (accepted > 0) ctx.metrics.ingestEvents.inc({ tenant }, accepted)
    if (rejected.length > 0) ctx.metrics.rejectedEvents.inc({ tenant }, rejected.length)
    if (duplicates > 0) ctx.metrics.duplicateEvents.inc(duplicates)
    const first = rejected[0]
    if (route === 'track' && first !== undefined) {
      return this.refuse(reply, failure(400, 'invalid_event', first.error, first.field))
    }
    const result: IngestResult = { accepted, duplicates, rejected }
    return reply.code(200).send(result)
  }

  /** A bad body is answered only once its bytes are in the dead-letter log, so nothing sent is lost. */
  private async refuseBody(reply: FastifyReply, f: RequestFailure, tenant: string, receivedAt: number, bytes: Buffer): Promise<FastifyReply> {
    if (KEEP_BODY.has(f.code)) {
      try {
        await appendDeadLetters(this.ctx.log, [deadLetter(tenant, receivedAt, -1, f.field ?? '(body)', `${f.code}: ${f.message}`, bytes)], this.ctx.partitions)
      } catch (err) {
        this.ctx.logger.error({ err }, 'collector could not write a dead letter')
      }
    }
    return this.refuse(reply, f)
  }

  refuse(reply: FastifyReply, f: RequestFailure): FastifyReply {
    this.ctx.metrics.rejectedRequests.inc({ reason: f.code })
    if (f.limit !== undefined) this.ctx.metrics.limitHits.inc({ limit: f.limit })
    if (f.retryAfter !== undefined) void reply.header('retry-after', String(f.retryAfter))
    if (f.close) void reply.header('connection', 'close')
    return reply.code(f.status).type('application/json').send(errorBody(f.code, f.message, f.field))
  }
}

function noBody(req: FastifyRequest): boolean {
  const h = req.headers
  return h['transfer-encoding'] === undefined && (h['content-length'] === undefined || h['content-length'] === '0')
}
