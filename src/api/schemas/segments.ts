/* Segment definitions, members and run-time changes (src/api/routes/segments.ts). */
import { AUTH_ERRORS, JSON_BODY_ERRORS, ENGINE_UNAVAILABLE, NEXT_CURSOR, PAGE_CURSOR_PARAM, SEGMENT_ID_PARAM, URI_TOO_LONG, errorResponse, limitParam, pathParams } from './common.ts'

/**
 * The body of a segment definition, as PUT /v1/segments/:id and the dashboard's validate take it.
 * Fastify validates with it (a missing `when` is a 400 `invalid_request` before the handler runs).
 */
export const SEGMENT_INPUT = {
  type: 'object',
  required: ['when'],
  additionalProperties: false,
  properties: {
    when: { type: 'string', minLength: 1, maxLength: 10_000, description: 'The rule: `count(spin, 1h) >= 3` (docs/rules.md)' },
    keep: { type: 'string', description: 'How long a member stays after the rule stops holding' },
    description: { type: 'string', maxLength: 1_000 },
  },
} as const

/** A segment and its live size in the key's tenant (SegmentInfo). */
export const SEGMENT_INFO = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    when: { type: 'string' },
    keep: { type: ['string', 'null'] },
    description: { type: ['string', 'null'] },
    size: { type: 'integer', description: "Members in the key's tenant" },
  },
  required: ['name', 'when', 'keep', 'description', 'size'],
  additionalProperties: false,
} as const

/** A rule that does not compile (routes/segment-input.ts, ruleErrorBody): the error body plus where. */
export const RULE_ERROR = {
  type: 'object',
  description: '`invalid_rule`: the rule does not compile; `line` and `column` say where (other 400s: `invalid_request`, the body does not match)',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        field: { type: 'string' },
        line: { type: 'integer' },
        column: { type: 'integer' },
        expected: { type: 'string', description: 'What the parser expected at that place' },
      },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const

export const SEGMENT_PARAMS = pathParams({ id: SEGMENT_ID_PARAM })

export const SEGMENTS_RESPONSES = {
  200: {
    type: 'object',
    description: "Every segment, with its size in the key's tenant",
    properties: { segments: { type: 'array', items: SEGMENT_INFO } },
    required: ['segments'],
    additionalProperties: false,
  },
  ...AUTH_ERRORS,
  ...ENGINE_UNAVAILABLE,
} as const

export const SEGMENT_RESPONSES = {
  200: { ...SEGMENT_INFO, description: 'The segment' },
  ...AUTH_ERRORS,
  404: errorResponse('`not_found`: no such segment'),
  ...URI_TOO_LONG,
  ...ENGINE_UNAVAILABLE,
} as const

export const MEMBERS_QUERY = {
  type: 'object',
  properties: { limit: limitParam(100, 10_000), cursor: PAGE_CURSOR_PARAM },
} as const

export const MEMBERS_RESPONSES = {
  200: {
    type: 'object',
    description: 'Members by user id, with since when',
    properties: {
      members: {
        type: 'array',
        items: {
          type: 'object',
          properties: { user_id: { type: 'string' }, segment: { type: 'string' }, since: { type: 'integer', description: 'Epoch milliseconds (event time)' } },
          required: ['user_id', 'since'],
        },
      },
      next: NEXT_CURSOR,
    },
    required: ['members', 'next'],
    additionalProperties: false,
  },
  400: errorResponse('`invalid_query`: a bad limit or cursor (named in `field`)'),
  ...AUTH_ERRORS,
  404: errorResponse('`not_found`: no such segment'),
  ...URI_TOO_LONG,
  ...ENGINE_UNAVAILABLE,
} as const

/** A tenant's rule changes over the per-minute cap (MAX_CHANGES_PER_MINUTE in src/engine/tenant-rule-change.ts). */
export const RULES_RATE_LIMITED = errorResponse('`rules_rate_limited`: the tenant changed its rules 10 times in the last minute through this server; nothing was changed, retry later')

export const PUT_SEGMENT_RESPONSES = {
  200: { ...SEGMENT_INFO, description: 'The segment as it now stands; it applies to new events' },
  400: RULE_ERROR,
  ...AUTH_ERRORS,
  ...JSON_BODY_ERRORS,
  409: errorResponse("`rules_conflict`: another server stored a change of the same tenant's rules meanwhile; nothing was changed, read them again and retry"),
  429: RULES_RATE_LIMITED,
  ...URI_TOO_LONG,
  ...ENGINE_UNAVAILABLE,
} as const
