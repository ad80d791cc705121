/*
 * The collector's bodies and answers (docs/collector.md, docs/events.md). The bodies are documented
 * only: the collector reads the raw bytes itself (see routes/collector.ts and DocumentOnly in
 * openapi.ts), so nothing here is ever used to validate a request.
 */
import { AUTH_ERRORS, errorResponse, retryResponse } from './common.ts'

/** One event: a flat object of reserved fields and properties (docs/events.md). */
export const EVENT = {
  type: 'object',
  description: 'One event: reserved fields plus properties of its own (docs/events.md). Each event is checked on its own: a bad one is rejected in the answer, not the request.',
  properties: {
    event: { type: 'string', maxLength: 128, pattern: '^[A-Za-z_][A-Za-z0-9_.:-]*$', description: 'Event name' },
    user_id: { type: ['string', 'integer'], description: 'The user (1–256 characters); this or anonymous_id is required' },
    anonymous_id: { type: ['string', 'integer'], description: 'The identity when there is no user_id' },
    ts: { type: ['string', 'integer', 'null'], description: 'Event time: ISO-8601 or epoch milliseconds; default the receive time' },
    sent_at: { type: ['string', 'integer', 'null'], description: "When the client sent it, on the client's clock: corrects ts" },
    event_id: { type: 'string', maxLength: 256, description: 'Client id for de-duplication; default a UUIDv7' },
    tenant: { type: 'string', description: "The key's tenant, or absent" },
  },
  required: ['event'],
  additionalProperties: true,
} as const

/** `POST /v1/events` bodies, by media type: JSON (array, `{"batch": [...]}` or one event) or NDJSON. */
export const EVENTS_BODY = {
  description: 'A batch of at most 10,000 events and 10 MiB (after gunzip); `Content-Encoding: gzip` accepted',
  content: {
    'application/json': {
      schema: {
        oneOf: [
          { type: 'array', items: EVENT, description: 'An array of events' },
          {
            type: 'object',
            description: 'A batch object; other top-level keys are ignored',
            properties: { batch: { type: 'array', items: EVENT }, sent_at: { type: ['string', 'integer', 'null'], description: "Corrects every event's ts" } },
            required: ['batch'],
          },
          { ...EVENT, description: 'One event (an object without a `batch` key)' },
        ],
      },
    },
    'application/x-ndjson': { schema: { type: 'string', description: 'One event (a JSON object) per line; blank lines are skipped' } },
    'application/ndjson': { schema: { type: 'string', description: 'As application/x-ndjson' } },
  },
} as const

/** `POST /v1/track`: exactly one event as a JSON object. */
export const TRACK_BODY = {
  description: 'Exactly one event; `Content-Encoding: gzip` accepted',
  content: { 'application/json': { schema: EVENT } },
} as const

/** The 200 answer of an ingest request (src/api/collector/ingest.ts, IngestResult). */
export const INGEST_RESULT = {
  type: 'object',
  description: 'The request was well-formed and every accepted event is durable; bad events are listed in `rejected` (and kept as dead letters)',
  properties: {
    accepted: { type: 'integer', minimum: 0, description: 'Events appended to the log' },
    duplicates: { type: 'integer', minimum: 0, description: 'Events dropped: their event_id was already seen' },
    rejected: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          index: { type: 'integer', description: 'Position in the array, or NDJSON line number − 1' },
          error: { type: 'string', description: '`field: reason`' },
          field: { type: 'string', description: 'The field at fault, `(event)` or `(line)`' },
        },
        required: ['index', 'error', 'field'],
        additionalProperties: false,
      },
    },
  },
  required: ['accepted', 'duplicates', 'rejected'],
  additionalProperties: false,
} as const

/** What either ingest route may refuse (src/api/collector/failure.ts and its callers). */
const INGEST_ERRORS = {
  400: errorResponse('`empty_body`, `invalid_json`, `invalid_body`, `invalid_utf8`, `invalid_gzip`, `aborted`, `invalid_event` (track)'),
  ...AUTH_ERRORS,
  408: errorResponse('`body_timeout`: the body arrived too slowly'),
  413: errorResponse('`payload_too_large` (over 10 MiB after gunzip) or `too_many_events` (over 10,000)'),
  415: errorResponse('`unsupported_media_type` or `unsupported_encoding`'),
  429: retryResponse('`overloaded`: too many bytes in flight; retry after Retry-After'),
  503: retryResponse('`engine_lagging` (backpressure) or `log_unavailable` (nothing was acknowledged): retry'),
} as const

export const EVENTS_RESPONSES = { 200: INGEST_RESULT, ...INGEST_ERRORS } as const

/** `/v1/track` answers 200 with `rejected` empty: a bad event is a 400 `invalid_event` instead. */
export const TRACK_RESPONSES = { 200: INGEST_RESULT, ...INGEST_ERRORS } as const

/** `GET /v1/dead-letters` query: only these two keys (another is a 400 naming it). */
export const DEAD_LETTERS_QUERY = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100, description: 'Letters per page, 1–1000 (default 100)' },
    cursor: { type: 'string', pattern: '^\\d{1,15}$', description: 'The `next` of the previous page' },
  },
  additionalProperties: false,
} as const

const DEAD_LETTER = {
  type: 'object',
  properties: {
    partition: { type: 'integer' },
    offset: { type: 'integer' },
    received_at: { type: 'string', description: 'ISO-8601' },
    index: { type: 'integer', description: 'Position in its request; −1 for a whole refused body' },
    field: { type: 'string' },
    reason: { type: 'string' },
    source: { type: 'string' },
    raw: { type: 'string', description: 'The bytes as sent, when they are UTF-8' },
    raw_base64: { type: 'string', description: 'The bytes as sent, base64, when they are not UTF-8' },
    raw_truncated: { type: 'boolean', enum: [true], description: 'Only the first 16 KiB are shown' },
    raw_bytes: { type: 'integer', description: 'Size of the bytes, when truncated' },
  },
  required: ['partition', 'offset', 'received_at', 'index', 'field', 'reason', 'source'],
  additionalProperties: false,
} as const

export const DEAD_LETTERS_RESPONSES = {
  200: {
    type: 'object',
    description: "The key's tenant's rejected events, newest first",
    properties: { dead_letters: { type: 'array', items: DEAD_LETTER }, next: { type: ['string', 'null'], description: 'Pass as `cursor` for the next (older) page' } },
    required: ['dead_letters', 'next'],
    additionalProperties: false,
  },
  400: errorResponse('`invalid_query`: a bad or unknown parameter (named in `field`)'),
  ...AUTH_ERRORS,
} as const
