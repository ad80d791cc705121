/*
 * Schemas every area shares: the error body (src/api/errors.ts), the refusals every route may give
 * (auth, limits, framework), and the paging parameters. Response schemas are the document's only
 * (DocumentOnly in src/api/openapi.ts), so a schema never reshapes an answer;
 * test/api/openapi-responses.test.ts checks the real answers against them.
 */
import type { Scope } from '../auth.ts'

/** One JSON Schema object, as route schemas and the document hold it. */
export type JsonSchema = Readonly<Record<string, unknown>>

/** The shape of every error response: `{"error":{"code","message","field"?}}` (src/api/errors.ts, errorBody). */
export const ERROR_BODY = {
  type: 'object',
  description: 'An error: `code` to branch on, `message` for people, `field` when one field or parameter is at fault',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', description: 'Stable, snake_case: `unauthorized`, `invalid_query`, `not_found`, …' },
        message: { type: 'string', description: 'For people; at most 2,048 characters' },
        field: { type: 'string', description: 'The field, query parameter or header at fault' },
      },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const

/** An error response with its own description (the document lists what each status means on that route). */
export function errorResponse(description: string): JsonSchema {
  return { ...ERROR_BODY, description }
}

/**
 * A 2xx answer that is not JSON (a page, a script, metrics, an event stream), by media type. Given
 * per response rather than as the route's `produces`, which would claim that media type for the
 * route's JSON errors too.
 */
export function textResponse(description: string, mediaTypes: readonly string[]): JsonSchema {
  return { description, content: Object.fromEntries(mediaTypes.map((m) => [m, { schema: { type: 'string' } }])) }
}

/** `Retry-After` on the answers that ask a client to come back (backpressure, stream slots, engine down). */
const RETRY_AFTER = { 'retry-after': { type: 'integer', description: 'Seconds to wait before retrying' } } as const

/** An error response that carries `Retry-After`. */
export function retryResponse(description: string): JsonSchema {
  return { ...ERROR_BODY, description, headers: RETRY_AFTER }
}

/** The refusals of `ctx.auth.require(scope)` (src/api/auth.ts), on every route that takes an API key. */
export const AUTH_ERRORS = {
  401: errorResponse('`unauthorized`: no API key, or an unknown one'),
  403: errorResponse("`forbidden`: the key lacks this route's scope"),
} as const

/**
 * Refusals before a route runs (src/api/client-errors.ts): a request that is not valid HTTP (400),
 * the request deadline (408), headers over 16 KiB (431). Listed as a range on routes that answer no
 * 4xx of their own (health, metrics, the dashboard page).
 */
export const REFUSED_BEFORE_ROUTING = { '4xx': errorResponse('Refused before routing: `bad_request` (not valid HTTP), `request_timeout`, `headers_too_large`') } as const

/**
 * The engine thread down or stuck (src/api/app.ts): routes that ask the engine answer 503
 * `engine_unavailable` at once rather than hang.
 */
export const ENGINE_UNAVAILABLE = { 503: retryResponse('`engine_unavailable`: the engine thread is down or not answering') } as const

/**
 * Fastify's refusals of a JSON body before the handler (app.ts's error handler gives the code): over
 * the 1 MiB limit of non-collector routes, or a media type it has no parser for.
 */
export const JSON_BODY_ERRORS = {
  413: errorResponse('The body is over 1 MiB (`fst_err_ctp_body_too_large`)'),
  415: errorResponse('Not `application/json` (`fst_err_ctp_invalid_media_type`)'),
} as const

/** `limit` of a list the handler checks itself (parseLimit): an integer from 1 to `max`. */
export function limitParam(fallback: number, max: number): JsonSchema {
  return { type: 'integer', minimum: 1, maximum: max, default: fallback, description: `Items per page, 1–${max} (default ${fallback})` }
}

/** `cursor` of the profile and member lists (src/api/routes/page-cursor.ts): only a `next` a previous page gave. */
export const PAGE_CURSOR_PARAM = { type: 'string', pattern: '^u\\.[A-Za-z0-9_-]*$', description: 'The `next` of the previous page; absent for the first page' } as const

/** `next` of a paged list: the cursor of the following page, null on the last one. */
export const NEXT_CURSOR = { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null when there is none' } as const

/** A path parameter object for Fastify and the document. */
export function pathParams(properties: Record<string, JsonSchema>): JsonSchema {
  return { type: 'object', properties, required: Object.keys(properties) }
}

/**
 * Path parameters are plain strings: some routes have Fastify validate their params, and a length or
 * pattern here would turn answers the handler gives today (404, its own 400) into Fastify's 400.
 * Longer than 100 characters is refused by the router (URI_TOO_LONG).
 */
export const USER_ID_PARAM = { type: 'string', description: 'The user id' } as const

export const SEGMENT_ID_PARAM = { type: 'string', description: 'The segment name' } as const

/** The router's refusal of a path segment over 100 characters (src/api/client-errors.ts), on routes with path parameters. */
export const URI_TOO_LONG = { 414: errorResponse('`uri_too_long`: a path segment is longer than 100 characters') } as const

/** An operation's description, led by the API key scope it needs (src/api/auth.ts). */
export function needs(scope: Scope, text = ''): string {
  return `Scope: \`${scope}\`.${text === '' ? '' : ` ${text}`}`
}
