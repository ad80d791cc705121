/* Profiles and segments as the engine answers them (src/engine/thread/protocol.ts). */
import { AUTH_ERRORS, ENGINE_UNAVAILABLE, NEXT_CURSOR, PAGE_CURSOR_PARAM, URI_TOO_LONG, USER_ID_PARAM, errorResponse, limitParam, pathParams } from './common.ts'

const NULLABLE_MS = { type: ['integer', 'null'], description: 'Epoch milliseconds' } as const
const NULLABLE_TEXT = { type: ['string', 'null'] } as const
const NULLABLE_NUMBER = { type: ['number', 'null'] } as const

/** Aggregates by canonical text (`count(spin, 1h)`); null when a window holds nothing to aggregate. */
export const METRIC_VALUES = { type: 'object', additionalProperties: { type: ['number', 'null'] } } as const

/** A segment a user is in, and since when (event time). */
export const PROFILE_SEGMENT = {
  type: 'object',
  properties: { segment: { type: 'string' }, since: { type: 'integer', description: 'Epoch milliseconds (event time)' } },
  required: ['segment', 'since'],
  additionalProperties: false,
} as const

/** One user's live profile (Profile). */
export const PROFILE = {
  type: 'object',
  properties: {
    tenant: { type: 'string' },
    user_id: { type: 'string' },
    traits: {
      type: 'object',
      description: 'The built-in traits, then those the rules file declares (docs/segments.md, "Custom traits"; GET /v1/traits lists them), null where the user has none',
      properties: {
        first_seen: NULLABLE_MS,
        last_seen: NULLABLE_MS,
        is_new: { type: ['boolean', 'null'] },
        event_count: { type: 'integer' },
        total_purchases: { type: 'number' },
        country: NULLABLE_TEXT,
        language: NULLABLE_TEXT,
        user_agent: NULLABLE_TEXT,
        referrer: NULLABLE_TEXT,
        host: NULLABLE_TEXT,
        'predicted.purchase_7d': { ...NULLABLE_NUMBER, description: 'From the latest daily scoring run (docs/predictions.md); null when none, or when that model was not published' },
        'predicted.churn_7d': NULLABLE_NUMBER,
        'predicted.wealth_30d': NULLABLE_NUMBER,
        'predicted.model_version': NULLABLE_TEXT,
        'predicted.scored_at': NULLABLE_MS,
      },
      required: [
        'first_seen',
        'last_seen',
        'is_new',
        'event_count',
        'total_purchases',
        'country',
        'language',
        'user_agent',
        'referrer',
        'host',
        'predicted.purchase_7d',
        'predicted.churn_7d',
        'predicted.wealth_30d',
        'predicted.model_version',
        'predicted.scored_at',
      ],
      additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
    },
    counts: { type: 'object', description: 'Lifetime events per name', additionalProperties: { type: 'integer' } },
    segments: { type: 'array', items: PROFILE_SEGMENT },
    metrics: { ...METRIC_VALUES, description: 'Every aggregate of the current rules, at the partition watermark' },
    ids: { type: 'array', items: { type: 'string' }, description: "The person's other ids, linked by identify or alias, in link order (docs/identity.md)" },
  },
  required: ['tenant', 'user_id', 'traits', 'counts', 'segments', 'metrics', 'ids'],
  additionalProperties: false,
} as const

export const PROFILE_PARAMS = pathParams({ user_id: USER_ID_PARAM })

export const PROFILE_RESPONSES = {
  200: { ...PROFILE, description: "The user's live profile" },
  ...AUTH_ERRORS,
  404: errorResponse('`not_found`: no profile for this user'),
  ...URI_TOO_LONG,
  ...ENGINE_UNAVAILABLE,
} as const

/**
 * `GET /v1/profiles` query. Conditions come in `where` or as bare keys (`&last_seen>2026-11-01`,
 * `&country=TR`), which no parameter list can name: the description says so.
 */
export const PROFILE_SEARCH_QUERY = {
  type: 'object',
  properties: {
    segment: { type: 'string', description: 'Only members of this segment' },
    where: {
      type: 'string',
      description:
        'Trait conditions, comma-separated: `country:TR,last_seen>2026-11-01T00:00:00Z,total_purchases>=10` (operators `:` `=` `!=` `>` `>=` `<` `<=`; the built-in traits first_seen, last_seen, is_new, total_purchases, event_count, country, language, user_agent, referrer, host, predicted.purchase_7d, predicted.churn_7d, predicted.wealth_30d, predicted.model_version, predicted.scored_at (`predicted.churn_7d>0.7`), and those the rules file declares: GET /v1/traits). Every other query key is read as one more condition.',
    },
    limit: limitParam(50, 1000),
    cursor: PAGE_CURSOR_PARAM,
  },
} as const

export const PROFILE_SEARCH_RESPONSES = {
  200: {
    type: 'object',
    description: 'Matching profiles, by user id',
    properties: { profiles: { type: 'array', items: PROFILE }, next: NEXT_CURSOR },
    required: ['profiles', 'next'],
    additionalProperties: false,
  },
  400: errorResponse('`invalid_query`: a bad condition, limit or cursor (named in `field`)'),
  ...AUTH_ERRORS,
  404: errorResponse('`not_found`: no such segment (`field`: segment)'),
  ...ENGINE_UNAVAILABLE,
} as const

/** One trait a rule or a search can name (TraitInfo). */
export const TRAIT_INFO = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    type: { type: 'string', enum: ['string', 'number', 'boolean', 'timestamp'], description: 'timestamp: epoch milliseconds' },
    kind: { type: 'string', enum: ['builtin', 'property', 'computed'], description: 'builtin: kept for every user; property: declared, copied from events; computed: declared, an aggregate' },
    description: NULLABLE_TEXT,
    from: { type: ['array', 'null'], items: { type: 'string' }, description: 'property: the events it is read from; null = every event' },
    property: { type: 'string', description: "property: the path within the event's properties" },
    compute: { type: 'string', description: 'computed: the aggregate as written' },
  },
  required: ['name', 'type', 'kind', 'description'],
  additionalProperties: false,
} as const

export const TRAITS_RESPONSES = {
  200: {
    type: 'object',
    description: 'Every trait of the running rules, built-in first',
    properties: { traits: { type: 'array', items: TRAIT_INFO } },
    required: ['traits'],
    additionalProperties: false,
  },
  ...AUTH_ERRORS,
  ...ENGINE_UNAVAILABLE,
} as const
