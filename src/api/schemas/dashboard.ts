/* The dashboard's page and its read-only routes (src/api/routes/dashboard.ts, docs/dashboard.md). */
import { AUTH_ERRORS, JSON_BODY_ERRORS, REFUSED_BEFORE_ROUTING, SEGMENT_ID_PARAM, URI_TOO_LONG, USER_ID_PARAM, errorResponse, pathParams, textResponse } from './common.ts'
import { RULE_ERROR } from './segments.ts'
import { SEGMENT_CHANGE, STREAM_SLOT_ERRORS } from './streams.ts'

/** Static files: 304 when `If-None-Match` names the current ETag. */
const NOT_MODIFIED = { type: 'null', description: 'Not modified: the ETag sent in If-None-Match is current' } as const

export const INDEX_RESPONSES = {
  200: textResponse("The dashboard's index.html", ['text/html']),
  304: NOT_MODIFIED,
  ...REFUSED_BEFORE_ROUTING,
  503: errorResponse('`dashboard_not_built`: the web bundle is missing; run `npm run build:web`'),
} as const

export const ASSET_PARAMS = pathParams({ file: { type: 'string', description: 'A content-hashed file name from index.html' } })

export const ASSET_RESPONSES = {
  // Each file is served with its own type (src/api/dashboard/static-files.ts); the bundle holds scripts and styles.
  200: textResponse('The file, cached for a year', ['text/javascript', 'text/css']),
  304: NOT_MODIFIED,
  404: errorResponse('`not_found`: no such asset'),
  ...URI_TOO_LONG,
} as const

export const LIVE_RESPONSES = {
  200: textResponse('A Server-Sent Events stream: a `hello` frame, then a `sample` frame every second', ['text/event-stream']),
  ...AUTH_ERRORS,
  ...STREAM_SLOT_ERRORS,
} as const

/**
 * The dashboard's query strings are checked by Fastify as given here (strings), then `limit` by the
 * handler (an integer in range, else 400 `invalid_query`): a tighter schema would change which
 * answer a bad limit gets.
 */
export const RECENT_CHANGES_QUERY = {
  type: 'object',
  properties: { limit: { type: 'string', description: 'An integer, 1–500, default 50' }, segment: { type: 'string', description: 'Only these segments, comma-separated' } },
} as const

export const RECENT_CHANGES_RESPONSES = {
  200: {
    type: 'object',
    description: "The tenant's latest segment entries and exits, oldest first, and the stream cursor right after them",
    properties: { changes: { type: 'array', items: SEGMENT_CHANGE }, cursor: { type: 'string', description: 'GET /v1/segment-changes?from=<cursor> continues after these' } },
    required: ['changes', 'cursor'],
    additionalProperties: false,
  },
  400: errorResponse('`invalid_query`: a bad limit (`invalid_request` when a parameter is given twice)'),
  ...AUTH_ERRORS,
} as const

export const PROFILE_EVENTS_PARAMS = pathParams({ user_id: USER_ID_PARAM })

export const PROFILE_EVENTS_QUERY = {
  type: 'object',
  properties: { limit: { type: 'string', description: 'An integer, 1–100, default 20' } },
} as const

export const PROFILE_EVENTS_RESPONSES = {
  200: {
    type: 'object',
    description: "The user's latest events, newest first",
    properties: {
      events: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            event: { type: 'string' },
            ts: { type: 'integer', description: 'Event time, epoch milliseconds' },
            received_at: { type: 'integer', description: 'Epoch milliseconds' },
            event_id: { type: 'string' },
            properties: { type: 'object', additionalProperties: true },
            offset: { type: 'integer' },
          },
          required: ['event', 'ts', 'received_at', 'event_id', 'properties', 'offset'],
          additionalProperties: false,
        },
      },
      partition: { type: 'integer' },
      complete: { type: 'boolean', description: "True when the scan reached the partition's first record: nothing older is stored" },
    },
    required: ['events', 'partition', 'complete'],
    additionalProperties: false,
  },
  400: errorResponse('`invalid_query`: a bad limit'),
  ...AUTH_ERRORS,
  ...URI_TOO_LONG,
} as const

export const VALIDATE_PARAMS = pathParams({ id: SEGMENT_ID_PARAM })

export const VALIDATE_RESPONSES = {
  200: {
    type: 'object',
    description: 'The rule compiles; `metrics` are the aggregates it would keep per user',
    properties: { valid: { type: 'boolean', enum: [true] }, metrics: { type: 'array', items: { type: 'string' } } },
    required: ['valid', 'metrics'],
    additionalProperties: false,
  },
  400: RULE_ERROR,
  ...AUTH_ERRORS,
  ...JSON_BODY_ERRORS,
  ...URI_TOO_LONG,
} as const
