/* SQL over the warehouse and the named reports (src/api/routes/query.ts, docs/warehouse.md). */
import { REPORTS } from '../../warehouse/reports/definitions.ts'
import { AUTH_ERRORS, JSON_BODY_ERRORS, URI_TOO_LONG, errorResponse, pathParams, retryResponse } from './common.ts'

/** Largest `limit` a client may ask for. */
export const MAX_QUERY_LIMIT = 100_000

/** `POST /v1/query`'s body; Fastify validates with it (400 `invalid_request`). */
export const QUERY_BODY = {
  type: 'object',
  required: ['sql'],
  additionalProperties: false,
  properties: {
    sql: { type: 'string', minLength: 1, maxLength: 100_000, description: 'One read-only statement (SELECT or WITH) over the warehouse views' },
    limit: { type: 'integer', minimum: 1, maximum: MAX_QUERY_LIMIT, description: 'Rows at most (default 10,000)' },
  },
} as const

/** A query's answer (QueryResult): columns with DuckDB types, rows of JSON values. */
export const QUERY_RESULT = {
  type: 'object',
  properties: {
    columns: {
      type: 'array',
      items: { type: 'object', properties: { name: { type: 'string' }, type: { type: 'string', description: 'DuckDB type' } }, required: ['name', 'type'], additionalProperties: false },
    },
    rows: { type: 'array', items: { type: 'array', items: {} }, description: 'One array of values per row, in column order' },
    truncated: { type: 'boolean', description: 'More rows matched than `limit`' },
    ms: { type: 'number', description: 'Time the query took' },
  },
  required: ['columns', 'rows', 'truncated', 'ms'],
  additionalProperties: false,
} as const

/** QueryError (src/warehouse/query/query-error.ts): the caller's query (400; 403 beyond its tenant's views) or a busy warehouse (503). */
const QUERY_ERRORS = {
  400: errorResponse('`read_only` (not one SELECT/WITH), `sql_error`, `timeout`; `invalid_request` when the body does not match'),
  503: retryResponse('`busy`: the warehouse is busy; retry'),
} as const

export const QUERY_RESPONSES = {
  200: { ...QUERY_RESULT, description: 'The rows' },
  400: QUERY_ERRORS[400],
  ...AUTH_ERRORS,
  403: errorResponse("`forbidden`: the key lacks the admin and operator scopes; `forbidden_sql`: an admin key's statement reads beyond its tenant's views (docs/tenancy.md)"),
  ...JSON_BODY_ERRORS,
  503: QUERY_ERRORS[503],
} as const

const REPORT_PARAM = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    type: { type: 'string', enum: ['string', 'number', 'list'] },
    default: { type: ['string', 'number'] },
    description: { type: 'string' },
  },
  required: ['name', 'type', 'default', 'description'],
  additionalProperties: false,
} as const

export const REPORTS_RESPONSES = {
  200: {
    type: 'object',
    description: 'The named reports',
    properties: {
      reports: {
        type: 'array',
        items: {
          type: 'object',
          properties: { name: { type: 'string' }, title: { type: 'string' }, question: { type: 'string' }, params: { type: 'array', items: REPORT_PARAM }, sql: { type: 'string' } },
          required: ['name', 'title', 'question', 'params', 'sql'],
          additionalProperties: false,
        },
      },
    },
    required: ['reports'],
    additionalProperties: false,
  },
  ...AUTH_ERRORS,
} as const

export const REPORT_PARAMS = pathParams({ name: { type: 'string', enum: REPORTS.map((r) => r.name), description: 'The report' } })

/**
 * Every report parameter but `tenant` (the key decides it), from the report definitions themselves;
 * a report refuses parameters it does not declare (400 `invalid_query`).
 */
export const REPORT_QUERY = {
  type: 'object',
  properties: Object.fromEntries(
    REPORTS.flatMap((r) => r.params)
      .filter((p, i, all) => p.name !== 'tenant' && all.findIndex((q) => q.name === p.name) === i)
      .map((p) => [
        p.name,
        {
          type: p.type === 'number' ? 'number' : 'string',
          default: p.default,
          description: `${p.description} (reports: ${REPORTS.filter((r) => r.params.includes(p))
            .map((r) => r.name)
            .join(', ')})`,
        },
      ]),
  ),
} as const

export const REPORT_RESPONSES = {
  200: { ...QUERY_RESULT, description: "The report's rows, over the key's tenant" },
  400: errorResponse('`invalid_query`: a parameter the report does not take, or a bad value (named in `field`); a query error'),
  ...AUTH_ERRORS,
  404: errorResponse('`not_found`: no such report'),
  ...URI_TOO_LONG,
  503: QUERY_ERRORS[503],
} as const
