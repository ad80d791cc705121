/*
 * The game backend (src/api/routes/game.ts, docs/game.md). Bodies and query strings are documented
 * only: the game reads JSON or form fields itself (aliases from seeds 002 and 003, numbers sent as
 * form text) and answers with its own codes naming the field, which a Fastify schema would preempt.
 */
import { AUTH_ERRORS, URI_TOO_LONG, errorResponse, pathParams } from './common.ts'
import { INBOX_MESSAGE } from './inbox.ts'

/** Both media types carry the same fields (form values are text; amounts may be decimal strings). */
export const GAME_CONSUMES = ['application/json', 'application/x-www-form-urlencoded'] as const

const AMOUNT = { type: ['number', 'string'], description: 'A sum: a number, or decimal text (forms)' } as const
const LABEL = { type: 'string', minLength: 1, maxLength: 64 } as const
const PLAYER_ID = { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' } as const
/** Who acts: `player_id` (aliases userid, user_id) or `name` (alias username). */
const ACTOR = {
  player_id: { ...PLAYER_ID, description: 'The player, by id (aliases: userid, user_id); or give `name`' },
  name: { ...LABEL, description: 'The player, by name (alias: username)' },
} as const

function body(description: string, properties: Record<string, unknown>, required: string[] = []): Record<string, unknown> {
  return { type: 'object', description, properties, ...(required.length > 0 ? { required } : {}) }
}

export const REGISTER_BODY = body(
  'A new player',
  {
    name: { ...LABEL, description: 'Unique in the tenant (alias: username)' },
    password: { type: 'string', minLength: 4, maxLength: 256, description: 'alias: userpwd' },
    wealth: { ...AMOUNT, description: 'Starting wealth (default 1000)' },
    id: { ...PLAYER_ID, description: 'Chosen id (aliases: userid, user_id, player_id); default generated' },
  },
  ['name', 'password'],
)

export const LOGIN_BODY = body('Who logs in, and the password', { ...ACTOR, password: { type: 'string', minLength: 4, maxLength: 256, description: 'alias: userpwd' } }, ['password'])

export const BUY_BODY = body('The buyer and the item', {
  ...ACTOR,
  type: { ...LABEL, description: 'Item type (default the kind)' },
  cost: { ...AMOUNT, description: "Price (default the kind's list price; required for kinds without one)" },
})

export const JOIN_BODY = body(
  'The player and the organisation',
  { ...ACTOR, org: { ...LABEL, description: 'The guild or team' }, level: { ...LABEL, description: 'Rank in it' }, cost: { ...AMOUNT, description: 'Fee (default 0)' } },
  ['org', 'level'],
)

export const KIND_PARAMS = pathParams({ kind: { type: 'string', pattern: '^[a-z_]{1,32}$', description: 'Item kind' } })
export const ITEM_PARAMS = pathParams({ item_name: { type: 'string', pattern: '^[a-z_]{1,32}$', description: 'Item kind' } })
export const JOIN_PARAMS = pathParams({ kind: { type: 'string', enum: ['guild', 'team'] } })
export const PLAYER_PARAMS = pathParams({ id: { ...PLAYER_ID, description: 'Player id' } })

export const PLAYER_QUERY = {
  type: 'object',
  properties: { name: { ...LABEL, description: 'By name (alias: username)' }, id: { ...PLAYER_ID, description: 'By id (alias: userid); wins over name' } },
} as const

const AFFILIATION = {
  type: 'object',
  properties: { kind: { type: 'string', enum: ['guild', 'team'] }, org: { type: 'string' }, level: { type: 'string' }, joined_at: { type: 'integer' } },
  required: ['kind', 'org', 'level', 'joined_at'],
  additionalProperties: false,
} as const

/** A player as the API shows it (PublicPlayer): never the password hash. */
const PLAYER = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    wealth: { type: 'number' },
    health: { type: 'number' },
    created: { type: 'integer', description: 'Epoch milliseconds' },
    inventory: {
      type: 'array',
      items: {
        type: 'object',
        properties: { kind: { type: 'string' }, type: { type: 'string' }, cost: { type: 'number' }, bought_at: { type: 'integer' } },
        required: ['kind', 'type', 'cost', 'bought_at'],
        additionalProperties: false,
      },
    },
    affiliations: { type: 'array', items: AFFILIATION },
    version: { type: 'integer', description: 'Incremented by every change' },
  },
  required: ['id', 'name', 'wealth', 'health', 'created', 'inventory', 'affiliations', 'version'],
  additionalProperties: false,
} as const

function answer(description: string, properties: Record<string, unknown>): Record<string, unknown> {
  return { type: 'object', description, properties: { ...properties, player: PLAYER }, required: [...Object.keys(properties), 'player'], additionalProperties: false }
}

/** What every game write may refuse: its body (parsed by the game or refused by Fastify's parser in its scope), auth, recording. */
const WRITE_ERRORS = {
  400: errorResponse('`invalid_body`, `missing_field`, `invalid_field`, `invalid_kind`, `invalid_json`, `invalid_form`, `bad_request`; `field` names the field'),
  ...AUTH_ERRORS,
  413: errorResponse('`payload_too_large`: over 16 KiB'),
  415: errorResponse('`unsupported_media_type`: send JSON or a form'),
  503: errorResponse('`event_not_recorded`: the change could not be recorded; nothing was applied'),
} as const

const UNKNOWN_PLAYER = { 404: errorResponse('`unknown_player`: no such player') } as const

export const REGISTER_RESPONSES = {
  201: answer('The player was created (event player_created)', {}),
  ...WRITE_ERRORS,
  409: errorResponse('`duplicate_name` or `duplicate_id`'),
} as const

export const LOGIN_RESPONSES = {
  200: answer("The password matches (event login); `messages`: the player's undelivered inbox messages, now marked delivered", {
    messages: { type: 'array', items: INBOX_MESSAGE, description: 'What `emit: player` triggers left for the player (docs/streams.md, "Player notifications"), oldest first, at most 100' },
  }),
  ...WRITE_ERRORS,
  401: errorResponse('`unauthorized` / `wrong_password` (the login event is recorded either way)'),
  ...UNKNOWN_PLAYER,
} as const

export const BUY_RESPONSES = {
  200: answer('Bought (event purchase)', {
    status: { type: 'string', enum: ['approved_purchase'] },
    item: { type: 'object', properties: { kind: { type: 'string' }, type: { type: 'string' }, cost: { type: 'number' } }, required: ['kind', 'type', 'cost'], additionalProperties: false },
  }),
  ...WRITE_ERRORS,
  402: errorResponse('`insufficient_funds`: the player cannot afford it (recorded as a refused purchase)'),
  ...UNKNOWN_PLAYER,
  ...URI_TOO_LONG,
} as const

export const JOIN_RESPONSES = {
  200: answer('Joined (event join_guild or join_team)', { status: { type: 'string', enum: ['approved_join'] }, affiliation: AFFILIATION }),
  ...WRITE_ERRORS,
  402: errorResponse('`insufficient_funds`: the player cannot pay the cost'),
  ...UNKNOWN_PLAYER,
  409: errorResponse('`already_member`'),
  ...URI_TOO_LONG,
} as const

export const LOOKUP_RESPONSES = {
  200: answer('The player', {}),
  400: errorResponse('`missing_field` or `invalid_field`: no usable name or id'),
  ...AUTH_ERRORS,
  ...UNKNOWN_PLAYER,
  ...URI_TOO_LONG,
} as const
