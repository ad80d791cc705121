/*
 * The Segment tracking spec's routes (docs/segment.md): bodies and answers, documented only (the
 * collector reads the raw bytes itself, see routes/collector.ts).
 */
import { AUTH_ERRORS, errorResponse, pathParams, retryResponse, type JsonSchema } from './common.ts'
import { INGEST_RESULT } from './collector.ts'

const TIME = { type: ['string', 'integer', 'null'], description: 'ISO-8601 or epoch milliseconds' } as const

/** One call of the spec, as Segment's and RudderStack's SDKs send it. */
export const SEGMENT_MESSAGE = {
  type: 'object',
  description: 'One call of the Segment spec; read into an event as docs/segment.md says. Other top-level keys are kept as properties.',
  properties: {
    type: { type: 'string', enum: ['track', 'identify', 'page', 'screen', 'group', 'alias'], description: 'Required in a batch; the route says it otherwise' },
    event: { type: 'string', description: 'The event name of a track call (free text: normalised to the event name rule, the original kept as `original_event`)' },
    userId: { type: ['string', 'integer'], description: 'The user; this or anonymousId is required' },
    anonymousId: { type: ['string', 'integer'], description: 'The device or visitor' },
    messageId: { type: 'string', maxLength: 256, description: 'De-duplication id' },
    timestamp: { ...TIME, description: "Event time on the client's clock" },
    originalTimestamp: { ...TIME, description: 'Event time when there is no `timestamp` (RudderStack)' },
    sentAt: { ...TIME, description: 'When the client sent it: corrects the event time' },
    properties: { type: 'object', description: 'track, page, screen: kept as top-level properties' },
    traits: { type: 'object', description: 'identify, group: kept as top-level properties' },
    context: { type: 'object', description: 'Kept as the nested property `context`' },
    name: { type: 'string', description: 'page, screen' },
    category: { type: 'string', description: 'page, screen' },
    groupId: { type: ['string', 'integer'], description: 'group: kept as `group_id`' },
    previousId: { type: ['string', 'integer'], description: 'alias: kept as `previous_id`' },
  },
  additionalProperties: true,
} as const

/** Any media type is read as JSON: browsers send text/plain, RudderStack's Node SDK a form type. */
function anyType(schema: JsonSchema, description: string): JsonSchema {
  return { description, content: { 'application/json': { schema }, 'text/plain': { schema }, 'application/x-www-form-urlencoded': { schema } } }
}

export const SEGMENT_BATCH_BODY = anyType(
  {
    type: 'object',
    properties: { batch: { type: 'array', items: SEGMENT_MESSAGE }, sentAt: TIME, writeKey: { type: 'string', description: 'Ignored: the key comes from Authorization' } },
    required: ['batch'],
  },
  'At most 10,000 messages and 10 MiB (after gunzip); read as JSON whatever the Content-Type; `Content-Encoding: gzip` accepted',
)

export const SEGMENT_CALL_BODY = anyType(SEGMENT_MESSAGE, 'One call; read as JSON whatever the Content-Type; `Content-Encoding: gzip` accepted')

/** An error on a Segment route: ours, plus `success: false` and `message` as Segment's clients read them. */
function segmentError(description: string, retry = false): JsonSchema {
  const base = retry ? retryResponse(description) : { description }
  return {
    ...base,
    type: 'object',
    properties: {
      success: { type: 'boolean', enum: [false] },
      message: { type: 'string' },
      error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } }, required: ['code', 'message'] },
    },
    required: ['success', 'message', 'error'],
  }
}

const SEGMENT_RESULT = {
  ...INGEST_RESULT,
  description: 'Every accepted message is durable; bad messages are listed in `rejected` (fields named as sent) and kept as dead letters',
  properties: { success: { type: 'boolean', enum: [true] }, ...INGEST_RESULT.properties },
  required: ['success', ...INGEST_RESULT.required],
} as const

export const SEGMENT_RESPONSES = {
  200: SEGMENT_RESULT,
  400: segmentError('`empty_body`, `invalid_json`, `invalid_body`, `invalid_utf8`, `invalid_gzip`, `aborted`, `invalid_event` (one-call routes)'),
  ...AUTH_ERRORS,
  408: segmentError('`body_timeout`: the body arrived too slowly'),
  413: segmentError('`payload_too_large` (over 10 MiB after gunzip) or `too_many_events` (over 10,000)'),
  415: segmentError('`unsupported_encoding`'),
  429: segmentError('`overloaded`: too many bytes in flight; retry after Retry-After', true),
  503: segmentError('`engine_lagging` or `log_unavailable` (nothing was acknowledged): retry', true),
} as const

/** One PostHog event (posthog-node's shape). */
const POSTHOG_EVENT = {
  type: 'object',
  properties: {
    event: { type: 'string', description: '$identify, $create_alias, $pageview, $screen, $groupidentify are read as identify, alias, page, screen, group' },
    distinct_id: { type: ['string', 'integer'], description: 'The user' },
    properties: { type: 'object', description: 'Kept as top-level properties; $set_once then $set spread on top' },
    timestamp: TIME,
    uuid: { type: 'string', description: 'De-duplication id' },
    api_key: { type: 'string', description: 'The API key, when the body has none at its top' },
  },
  additionalProperties: true,
} as const

export const POSTHOG_BODY = anyType(
  {
    anyOf: [
      { type: 'object', properties: { api_key: { type: 'string' }, batch: { type: 'array', items: POSTHOG_EVENT }, sent_at: TIME }, required: ['batch'], description: 'A batch (posthog-node)' },
      { ...POSTHOG_EVENT, description: 'One event' },
      { type: 'array', items: POSTHOG_EVENT, description: 'An array of events, each with its api_key' },
    ],
  },
  'The API key is `api_key` in the body (or the first event, or its `properties.token`). Read as JSON whatever the Content-Type; `Content-Encoding: gzip` accepted',
)

export const POSTHOG_RESPONSES = {
  200: {
    ...INGEST_RESULT,
    description: 'Every accepted event is durable; `status: 1` as PostHog answers',
    properties: { status: { type: 'integer', enum: [1] }, ...INGEST_RESULT.properties },
    required: ['status', ...INGEST_RESULT.required],
  },
  400: errorResponse('`empty_body`, `invalid_json`, `invalid_body`, `invalid_utf8`, `invalid_gzip`, `aborted`'),
  401: errorResponse('`unauthorized`: no `api_key` in the body, or an unknown one'),
  403: errorResponse('`forbidden`: the key lacks the `write` scope'),
  408: errorResponse('`body_timeout`'),
  413: errorResponse('`payload_too_large` or `too_many_events`'),
  415: errorResponse('`unsupported_encoding`'),
  429: retryResponse('`overloaded`: retry after Retry-After'),
  503: retryResponse('`engine_lagging` or `log_unavailable`: retry'),
} as const

export const SEGMENT_SETTINGS_PARAMS = pathParams({ writeKey: { type: 'string', description: 'A tagstream API key with the write scope' } })

export const SEGMENT_SETTINGS_RESPONSES = {
  200: {
    type: 'object',
    description: "Segment's settings document: analytics-next sends to `integrations['Segment.io'].apiHost` (this server's Host header + /v1) over `protocol`",
    properties: {
      integrations: {
        type: 'object',
        properties: {
          'Segment.io': {
            type: 'object',
            properties: { apiKey: { type: 'string' }, apiHost: { type: 'string' }, protocol: { type: 'string', enum: ['http', 'https'] } },
            required: ['apiKey', 'apiHost', 'protocol'],
          },
        },
        required: ['Segment.io'],
      },
      metrics: { type: 'object', description: '`sampleRate: 0`: the library sends no telemetry to Segment' },
    },
    required: ['integrations'],
    additionalProperties: true,
  },
  400: errorResponse('`invalid_host`: the Host header is not host[:port]'),
  404: errorResponse('`not_found`: not a key with the write scope'),
} as const
