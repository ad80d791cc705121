import type { EventsFormat } from '../events/index.ts'
import type { IngestBatch } from './batch.ts'
import { bodyText, type BodyFormat } from './body.ts'
import { HTTP_SOURCE, inputLetter, type DeadLetter } from './dead-letters.ts'
import type { Deduper } from './dedupe.ts'
import type { RequestFailure } from './failure.ts'
import { encodeEventsBody } from './fast-path.ts'
import { RequestIds } from './ids.ts'
import { ParsedBody, parseEventsJson, parseNdjson, parseTrackJson } from './parse.ts'
import { posthogEvents, readPosthogBody } from './posthog/parse.ts'
import type { SegmentType } from './segment/message.ts'
import { parseSegmentJson, type SegmentCall } from './segment/parse.ts'
import { encodeSegmentBatch } from './segment/fast-path.ts'
import { sortBatch } from './sorter.ts'

/*
 * The ingestion pipeline from a request's decoded bytes to a batch ready to append, free of HTTP:
 * the byte-level fast paths where the body has its common shape (ours, or a Segment batch), else parsing (JSON or NDJSON) and
 * sorting one candidate at a time. Both end in the same IngestBatch, so what a request becomes
 * does not depend on which path read it (test/ingest/fast-path.test.ts compares them).
 */

/**
 * `events`: a JSON array, {"batch": [...]} or NDJSON of events; `track`: one JSON event (ours, or a
 * Segment track call: see looksLikeSegment); `segment:batch`, `segment:identify` …: the Segment
 * tracking spec's routes (docs/segment.md); `posthog`: PostHog's /batch/ and /capture/ (sortPosthogBody).
 */
export type BodyShape = 'events' | 'track' | `segment:${SegmentCall}` | 'posthog'

export interface BodyContext {
  tenant: string
  receivedAt: number
  partitions: number
  maxEvents: number
  deduper: Deduper
  /** The byte-level fast path may read the body (ServerConfig.collectorFastPath; TAGSTREAM_COLLECTOR_FAST_PATH=off turns it off). */
  fastPath: boolean
  /** How accepted events are stored (ServerConfig.eventsFormat); default DEFAULT_EVENTS_FORMAT. */
  eventsFormat?: EventsFormat
}

/** Sorts a request body (UTF-8 not yet checked) into a batch, or the failure that refuses it whole. */
export function sortBody(bytes: Buffer, format: BodyFormat, shape: BodyShape, c: BodyContext): IngestBatch | RequestFailure {
  if (c.fastPath && format === 'json' && (shape === 'events' || shape === 'segment:batch')) {
    const options = { ...c, ids: new RequestIds(c.receivedAt) }
    const fast = shape === 'events' ? encodeEventsBody(bytes, options) : encodeSegmentBatch(bytes, options)
    if (fast !== null) return fast
  }
  const parsed = parseBody(bytes, format, shape, c.maxEvents)
  if (!(parsed instanceof ParsedBody)) return parsed
  return sortBatch(parsed, c.tenant, c.receivedAt, c.partitions, c.deduper, undefined, c.eventsFormat)
}

function parseBody(bytes: Buffer, format: BodyFormat, shape: BodyShape, maxEvents: number): ParsedBody | RequestFailure {
  const text = bodyText(bytes)
  // NDJSON with bad UTF-8 is cut into lines from the bytes: only the bad lines are rejected.
  if (format === 'ndjson') return parseNdjson(typeof text === 'string' ? text : null, bytes, maxEvents)
  if (typeof text !== 'string') return text
  if (shape === 'events') return parseEventsJson(text, bytes, maxEvents)
  if (shape === 'posthog') throw new Error('a PostHog body is sorted by sortPosthogBody: its key is in the body')
  if (shape !== 'track') return parseSegmentJson(text, bytes, shape === 'segment:batch' ? 'batch' : (shape.slice(8) as SegmentType), maxEvents)
  const track = parseTrackJson(text, bytes)
  return track instanceof ParsedBody && looksLikeSegment(track.items[0]) ? parseSegmentJson(text, bytes, 'track', maxEvents) : track
}

/**
 * POST /v1/track is both ours and Segment's: a body with a Segment id (`userId`, `anonymousId`) and
 * neither of ours (`user_id`, `anonymous_id`) is a Segment track call. Without any of them it is
 * ours, and refused as ours (`user_id: is required`).
 */
function looksLikeSegment(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false
  const o = v as Record<string, unknown>
  return (o.userId !== undefined || o.anonymousId !== undefined) && o.user_id === undefined && o.anonymous_id === undefined
}

/** Request-level failures whose body is kept in the dead-letter log (index −1): the bytes were sent, just unusable. */
const KEEP_BODY = new Set(['invalid_json', 'invalid_body', 'invalid_utf8', 'invalid_gzip'])

/** The dead letter that keeps a body refused whole, or null when the failure keeps nothing (too large, throttled …). */
export function refusedBodyLetter(f: RequestFailure, tenant: string, receivedAt: number, bytes: Buffer): DeadLetter | null {
  if (!KEEP_BODY.has(f.code)) return null
  return inputLetter(HTTP_SOURCE, tenant, receivedAt, -1, f.field ?? '(body)', `${f.code}: ${f.message}`, bytes)
}

/**
 * A PostHog body, whose project key is inside it (`api_key`): read once, the key turned into a
 * tenant by `tenantOf` (or the refusal to answer), then sorted like every other body.
 */
export function sortPosthogBody(
  bytes: Buffer,
  c: Omit<BodyContext, 'tenant' | 'fastPath'>,
  tenantOf: (key: string | null) => string | RequestFailure,
): { tenant: string; batch: IngestBatch | RequestFailure } | RequestFailure {
  const text = bodyText(bytes)
  if (typeof text !== 'string') return text
  const body = readPosthogBody(text, bytes)
  if ('status' in body) return body
  const tenant = tenantOf(body.key)
  if (typeof tenant !== 'string') return tenant
  const parsed = posthogEvents(body, c.maxEvents)
  return { tenant, batch: parsed instanceof ParsedBody ? sortBatch(parsed, tenant, c.receivedAt, c.partitions, c.deduper, undefined, c.eventsFormat) : parsed }
}
