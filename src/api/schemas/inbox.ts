/* Players' inboxes (src/api/routes/inbox.ts, docs/streams.md "Player notifications"). */
import { AUTH_ERRORS, errorResponse, JSON_BODY_ERRORS, limitParam, pathParams, URI_TOO_LONG, USER_ID_PARAM } from './common.ts'

/** Most messages a GET returns; the default. */
export const INBOX_PAGE = { max: 100, fallback: 50 } as const
/** Most ids one POST marks delivered. */
export const MAX_DELIVERED_IDS = 500

export const INBOX_MESSAGE = {
  type: 'object',
  properties: {
    id: { type: 'string', description: '`<event_id>:<trigger>`: pass it back to mark the message delivered' },
    trigger: { type: 'string' },
    message: { type: 'string' },
    event: { type: 'string', description: 'The triggering event' },
    event_id: { type: 'string' },
    at: { type: 'integer', description: 'Event time of the triggering event, epoch milliseconds' },
  },
  required: ['id', 'trigger', 'message', 'event', 'event_id', 'at'],
} as const

export const INBOX_PARAMS = pathParams({ user_id: USER_ID_PARAM })

export const INBOX_QUERY = { type: 'object', properties: { limit: limitParam(INBOX_PAGE.fallback, INBOX_PAGE.max) } } as const

export const INBOX_RESPONSES = {
  200: {
    type: 'object',
    properties: { user_id: { type: 'string' }, messages: { type: 'array', items: INBOX_MESSAGE } },
    required: ['user_id', 'messages'],
    description: 'The undelivered messages, oldest first',
  },
  400: errorResponse('`invalid_request`: a user id of 1 to 256 characters, a limit of 1 to 100'),
  ...AUTH_ERRORS,
  ...URI_TOO_LONG,
} as const

export const DELIVERED_BODY = {
  type: 'object',
  properties: { ids: { type: 'array', items: { type: 'string', maxLength: 1_024 }, maxItems: MAX_DELIVERED_IDS, description: 'The messages shown to the player' } },
  required: ['ids'],
  additionalProperties: false,
} as const

export const DELIVERED_RESPONSES = {
  200: { type: 'object', properties: { delivered: { type: 'integer', description: 'How many of the ids were undelivered messages of the player' } }, required: ['delivered'] },
  400: errorResponse('`invalid_request`: `ids` must be a list of at most 500 message ids'),
  ...AUTH_ERRORS,
  ...JSON_BODY_ERRORS,
  ...URI_TOO_LONG,
} as const
