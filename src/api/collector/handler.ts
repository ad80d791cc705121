import type { FastifyReply, FastifyRequest } from 'fastify'
import { DEFAULT_TENANT } from '../../events/index.ts'
import { appendBatch } from '../../ingest/append-batch.ts'
import type { IngestBatch, IngestResult } from '../../ingest/batch.ts'
import { contentEncoding, decodeContent, mediaFormat, readRequestBody, tooLarge } from '../../ingest/body.ts'
import { appendDeadLetters } from '../../ingest/dead-letters.ts'
import type { Deduper } from '../../ingest/dedupe.ts'
import { failure, type RequestFailure } from '../../ingest/failure.ts'
import { emptyBody } from '../../ingest/parse.ts'
import { refusedBodyLetter, sortBody, sortPosthogBody, type BodyShape } from '../../ingest/pipeline.ts'
import type { ApiContext } from '../context.ts'
import { errorBody } from '../errors.ts'
import { checkBackpressure } from './backpressure.ts'
import { InflightBudget, Reservation } from './inflight.ts'

/** The collector's routes: POST /v1/events (a batch), POST /v1/track (one event), and the Segment spec's (docs/segment.md). */
export type CollectorRoute = BodyShape

/** The Segment spec's routes answer in its words too: `success`, and a top-level `message` on errors. */
function isSegmentRoute(route: CollectorRoute): boolean {
  return route.startsWith('segment:')
}

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
    // A PostHog body carries its key: until it is read, its bytes count against one budget of their own.
    const bodyKeyed = route === 'posthog'
    let tenant = bodyKeyed ? BODY_KEYED : (req.principal?.tenant ?? DEFAULT_TENANT)
    const headers = req.headers
    const maxBytes = ctx.config.limits.maxBodyBytes
    const spec = isSegmentRoute(route)
    if (headers['content-type'] === undefined && noBody(req)) return this.refuse(reply, emptyBody(), spec)
    // Segment's clients send JSON as whatever type suits them (browsers text/plain to avoid a CORS
    // preflight, RudderStack's Node SDK application/x-www-form-urlencoded): its routes read JSON always.
    const format = spec || bodyKeyed ? 'json' : mediaFormat(headers['content-type'], route === 'events')
    if (typeof format !== 'string') return this.refuse(reply, format)
    const encoding = contentEncoding(headers['content-encoding'])
    if (typeof encoding !== 'string') return this.refuse(reply, encoding, spec)

    const declared = Number(headers['content-length']) || 0
    if (declared > maxBytes) {
      req.raw.resume()
      return this.refuse(reply, tooLarge(maxBytes), spec)
    }
    const refusal = checkBackpressure(ctx.inflight.bytes, declared, ctx.engine.snapshot(), ctx.config.backpressure) ?? this.inflight.check(tenant, 0, declared)
    if (refusal) {
      req.raw.resume()
      ctx.metrics.throttled.inc({ status: String(refusal.status) })
      return this.refuse(reply, refusal, spec)
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
        return this.refuse(reply, raw, spec)
      }
      ctx.metrics.ingestBytes.inc(raw.length)
      if (raw.length === 0) return this.refuse(reply, emptyBody(), spec)
      const receivedAt = Date.now()
      const bytes = await decodeContent(raw, encoding, maxBytes)
      // No tenant yet for a PostHog body: nothing of it is kept before its key is known.
      if (!Buffer.isBuffer(bytes)) return bodyKeyed ? this.refuse(reply, bytes) : await this.refuseBody(reply, bytes, tenant, receivedAt, raw, spec)
      // Decompressed bytes are held too; they were admitted with the body, so they are counted, not refused.
      reservation.force(bytes.length)
      const sorting = { tenant, receivedAt, partitions: ctx.partitions, maxEvents: ctx.config.limits.maxEvents, deduper: this.deduper, fastPath: this.fastPath, eventsFormat: ctx.config.eventsFormat }
      let batch: IngestBatch | RequestFailure
      if (bodyKeyed) {
        const keyed = sortPosthogBody(bytes, sorting, (key) => this.tenantOfBodyKey(key))
        if ('status' in keyed) return this.refuse(reply, keyed)
        tenant = keyed.tenant
        batch = keyed.batch
      } else batch = sortBody(bytes, format, route, sorting)
      if ('status' in batch) return await this.refuseBody(reply, batch, tenant, receivedAt, bytes, spec)
      return await this.answer(reply, route, tenant, batch)
    } finally {
      reservation.release()
    }
  }

  /** Appends a sorted request and answers once it is durable. */
  private async answer(reply: FastifyReply, route: CollectorRoute, tenant: string, batch: IngestBatch): Promise<FastifyReply> {
    const { ctx } = this
    const { accepted, duplicates, rejected } = batch
    const read = accepted + duplicates + rejected.length
    if (batch.validated > 0) ctx.metrics.parsedEvents.inc({ path: 'validated' }, batch.validated)
    if (read > batch.validated) ctx.metrics.parsedEvents.inc({ path: 'fast' }, read - batch.validated)
    try {
      await appendBatch(ctx.log, ctx.partitions, batch, this.deduper)
    } catch (err) {
      ctx.logger.error({ err }, 'collector append failed')
      const f = failure(503, 'log_unavailable', `the event log did not confirm the append (${(err as Error).message}); nothing is acknowledged — retry the request`)
      return this.refuse(reply, { ...f, retryAfter: ctx.config.backpressure.retryAfterSeconds }, isSegmentRoute(route))
    }
    if (accepted > 0) ctx.metrics.ingestEvents.inc({ tenant }, accepted)
    if (rejected.length > 0) ctx.metrics.rejectedEvents.inc({ tenant }, rejected.length)
    if (duplicates > 0) ctx.metrics.duplicateEvents.inc(duplicates)
    const first = rejected[0]
    const spec = isSegmentRoute(route)
    // A one-event route answers a rejected event with a 400; a batch lists its rejected events.
    if ((route === 'track' || (spec && route !== 'segment:batch')) && first !== undefined) {
      return this.refuse(reply, failure(400, 'invalid_event', first.error, first.field), spec)
    }
    const result: IngestResult = { accepted, duplicates, rejected }
    return reply.code(200).send(spec ? { success: true, ...result } : route === 'posthog' ? { status: 1, ...result } : result)
  }

  /** The tenant of a key sent in a body (PostHog's `api_key`), admitted as the auth preHandler admits a header's. */
  private tenantOfBodyKey(key: string | null): string | RequestFailure {
    const admitted = this.ctx.auth.admit(key, 'write', 'missing API key: PostHog clients send it as "api_key" in the body')
    return 'code' in admitted ? failure(admitted.status, admitted.code, admitted.message) : admitted.tenant
  }

  /** A bad body is answered only once its bytes are in the dead-letter log, so nothing sent is lost. */
  private async refuseBody(reply: FastifyReply, f: RequestFailure, tenant: string, receivedAt: number, bytes: Buffer, spec: boolean): Promise<FastifyReply> {
    const letter = refusedBodyLetter(f, tenant, receivedAt, bytes)
    if (letter !== null) {
      try {
        await appendDeadLetters(this.ctx.log, [letter], this.ctx.partitions)
      } catch (err) {
        this.ctx.logger.error({ err }, 'collector could not write a dead letter')
      }
    }
    return this.refuse(reply, f, spec)
  }

  /** `spec`: a Segment route, whose clients read `success` and `message` besides our `error`. */
  refuse(reply: FastifyReply, f: RequestFailure, spec = false): FastifyReply {
    // 401 and 403 are counted by the collector scope's hook, whoever answered them.
    if (f.status !== 401 && f.status !== 403) this.ctx.metrics.rejectedRequests.inc({ reason: f.code })
    if (f.limit !== undefined) this.ctx.metrics.limitHits.inc({ limit: f.limit })
    if (f.retryAfter !== undefined) void reply.header('retry-after', String(f.retryAfter))
    if (f.close) void reply.header('connection', 'close')
    const body = errorBody(f.code, f.message, f.field)
    return reply
      .code(f.status)
      .type('application/json')
      .send(spec ? { success: false, message: body.error.message, ...body } : body)
  }
}

/** The in-flight budget of PostHog bodies until their key is read (not a tenant name: it has a space). */
const BODY_KEYED = '(posthog body)'

function noBody(req: FastifyRequest): boolean {
  const h = req.headers
  return h['transfer-encoding'] === undefined && (h['content-length'] === undefined || h['content-length'] === '0')
}
