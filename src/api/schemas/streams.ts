/* Live streams (src/api/routes/streams.ts, docs/streams.md): Server-Sent Events, resumable by cursor. */
import { AUTH_ERRORS, errorResponse, retryResponse, textResponse, type JsonSchema } from './common.ts'

/** A segment entry or exit as streams and the dashboard send it (SegmentChange plus where it is in the log). */
export const SEGMENT_CHANGE = {
  type: 'object',
  properties: {
    segment: { type: 'string' },
    tenant: { type: 'string' },
    user_id: { type: 'string' },
    change: { type: 'string', enum: ['entered', 'exited'] },
    at: { type: 'integer', description: 'Event time of the change, epoch milliseconds' },
    values: { type: 'object', description: "The segment's aggregates at that moment", additionalProperties: { type: ['number', 'null'] } },
    version: { type: 'integer', description: 'Per-user sequence number of changes, from 1' },
    partition: { type: 'integer' },
    offset: { type: 'integer' },
  },
  required: ['segment', 'tenant', 'user_id', 'partition', 'offset'],
} as const

/** The refusals of a stream slot (src/api/streams/slots.ts): per tenant, then in all. */
export const STREAM_SLOT_ERRORS = {
  429: retryResponse("`too_many_streams`: the key's tenant has every stream of its share open"),
  503: retryResponse('`too_many_streams`: the server has every stream open'),
} as const

/**
 * A stream's query string. Fastify checks it as given here (strings); `from` is then resolved by the
 * handler (400 `invalid_cursor` for a cursor it cannot place).
 */
export function streamQuery(filterParam: 'segment' | 'trigger' | 'event'): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      from: { type: 'string', description: '"now" (default), "earliest" or a cursor (an event id); the Last-Event-ID header takes precedence' },
      [filterParam]: { type: 'string', description: `Only these ${filterParam}s, comma-separated` },
    },
  }
}

export function streamResponses(event: string): Record<string, JsonSchema> {
  return {
    200: textResponse(`Server-Sent Events: \`event: ${event}\`, \`id:\` a cursor to resume from, \`data:\` one JSON record; \`: keep-alive\` comments`, ['text/event-stream']),
    400: errorResponse('`invalid_cursor`: `from` or Last-Event-ID is not a cursor of this stream'),
    ...AUTH_ERRORS,
    ...STREAM_SLOT_ERRORS,
  }
}

/** GET /v1/event-streams. */
export const EVENT_STREAM_LIST = {
  type: 'object',
  properties: {
    streams: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          topic: { type: 'string', description: 'The log (Kafka topic) the engine writes the copies to' },
          events: {
            description: 'The event names of the stream, or "*" for every event',
            anyOf: [
              { type: 'array', items: { type: 'string' } },
              { type: 'string', enum: ['*'] },
            ],
          },
          path: { type: 'string', description: 'The SSE path' },
          description: { type: 'string' },
        },
        required: ['name', 'topic', 'events', 'path'],
      },
    },
  },
  required: ['streams'],
} as const
