/* A tenant's own rule set, its import and export, and its history (src/api/routes/tenant-rules.ts). */
import { AUTH_ERRORS, ENGINE_UNAVAILABLE, URI_TOO_LONG, errorResponse, limitParam } from './common.ts'
import { RULE_ERROR, RULES_RATE_LIMITED } from './segments.ts'

/** One version of the key's tenant's own rules (TenantRuleSet). */
export const TENANT_RULE_SET = {
  type: 'object',
  properties: {
    tenant: { type: 'string' },
    version: { type: 'integer', description: '0 before the first change' },
    yaml: { type: 'string', description: "The tenant's own segments and triggers, in the rules file's format" },
    changed_by: { type: ['string', 'null'], description: 'The key that made the change: `key-` and 12 hex digits of its SHA-256' },
    changed_at: { type: ['integer', 'null'], description: 'When, epoch ms' },
    backfill: {
      type: ['object', 'null'],
      description: "The last backfill of the tenant's new aggregates on this server's partitions; null when none ran here since it started, and on a collector",
      properties: {
        version: { type: 'integer' },
        state: { type: 'string', enum: ['running', 'done'] },
        partitions: { type: 'object', properties: { done: { type: 'integer' }, total: { type: 'integer' } }, required: ['done', 'total'] },
        rows: { type: 'object', properties: { warehouse: { type: 'integer' }, log: { type: 'integer' } }, required: ['warehouse', 'log'] },
        users: { type: 'integer' },
        seconds: { type: 'number' },
        errors: { type: 'array', items: { type: 'string' } },
      },
      required: ['version', 'state', 'partitions', 'rows', 'users', 'seconds', 'errors'],
    },
  },
  required: ['tenant', 'version', 'yaml', 'changed_by', 'changed_at'],
  additionalProperties: false,
} as const

export const GET_RULES_RESPONSES = {
  200: { ...TENANT_RULE_SET, description: "The key's tenant's own rules, as the latest change left them" },
  ...AUTH_ERRORS,
  ...ENGINE_UNAVAILABLE,
} as const

export const PUT_RULES_RESPONSES = {
  200: { ...TENANT_RULE_SET, description: 'The rule set as stored; every partition applies it to new events' },
  400: RULE_ERROR,
  ...AUTH_ERRORS,
  409: errorResponse("`rules_conflict`: another server stored a change of the same tenant's rules meanwhile; nothing was changed, read them again and retry"),
  413: errorResponse('The body is over twice the 64 KiB a rule set may hold (`fst_err_ctp_body_too_large`)'),
  429: RULES_RATE_LIMITED,
  415: errorResponse('Not YAML, plain text or JSON (`fst_err_ctp_invalid_media_type`)'),
  ...ENGINE_UNAVAILABLE,
} as const

export const RULE_HISTORY_QUERY = { type: 'object', properties: { limit: limitParam(20, 1_000) } } as const

export const RULE_HISTORY_RESPONSES = {
  200: {
    type: 'object',
    description: "The key's tenant's rule set versions, newest first: who changed them and when",
    properties: { versions: { type: 'array', items: TENANT_RULE_SET } },
    required: ['versions'],
  },
  400: errorResponse('`invalid_query`: `limit` is not an integer from 1 to 1000'),
  ...AUTH_ERRORS,
  ...ENGINE_UNAVAILABLE,
} as const

export const DELETE_SEGMENT_RESPONSES = {
  204: { type: 'null', description: "Removed from the tenant's own rules; a segment of the rules file by that name applies to the tenant again" },
  ...AUTH_ERRORS,
  404: errorResponse("`not_found`: the tenant has no segment of its own by that name (the rules file's segments are the operator's)"),
  409: errorResponse("`rules_conflict`: another server stored a change of the same tenant's rules meanwhile; nothing was changed, retry"),
  429: RULES_RATE_LIMITED,
  ...URI_TOO_LONG,
  ...ENGINE_UNAVAILABLE,
} as const
