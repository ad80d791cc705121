import { AUTH_ERRORS, ENGINE_UNAVAILABLE, URI_TOO_LONG, errorResponse, limitParam, pathParams } from './common.ts'

/** An erasure job as the API shows it (src/api/routes/erasures.ts, docs/privacy.md). */
export const ERASURE_JOB = {
  type: 'object',
  required: ['id', 'tenant', 'ids', 'status', 'steps', 'requested_by', 'requested_at', 'finished_at', 'tombstone', 'error'],
  properties: {
    id: { type: 'string', description: '`era_` and 32 hex digits' },
    tenant: { type: 'string' },
    ids: { type: 'array', items: { type: 'string' }, description: "The person's ids (the one asked for first); `sha256:` hashes once the tombstone lapsed" },
    status: { type: 'string', enum: ['accepted', 'erasing', 'done'], description: 'A step that fails is retried (with a growing pause) and shows why in `error`' },
    steps: {
      type: 'object',
      required: ['log', 'engine', 'warehouse'],
      properties: {
        log: { type: 'boolean', description: 'Erase records appended to every partition of the events log' },
        engine: { type: 'boolean', description: 'Every engine partition checkpointed past its record: live state and checkpoints no longer hold the person' },
        warehouse: { type: 'boolean', description: "The warehouse's files rewritten without the person's rows" },
      },
    },
    requested_by: { type: 'string', description: 'The API key that asked (key- and 12 hex digits of its SHA-256)' },
    requested_at: { type: 'string' },
    finished_at: { type: ['string', 'null'] },
    tombstone: { type: 'boolean', description: 'True until log retention has dropped every event the erase covered' },
    error: { type: ['string', 'null'] },
  },
} as const

export const ERASURE_PARAMS = pathParams({ job: { type: 'string', description: 'The job id DELETE /v1/profiles/{user_id} answered with' } })

export const ERASE_RESPONSES = {
  202: {
    type: 'object',
    required: ['job', 'existing', 'status_url'],
    properties: {
      job: ERASURE_JOB,
      existing: { type: 'boolean', description: 'True when an erase of this person was already under way: that job is returned' },
      status_url: { type: 'string' },
    },
    description: 'The erase is under way: poll status_url until `status` is `done`',
  },
  ...AUTH_ERRORS,
  404: errorResponse("`not_found`: no profile and no unread event for this id in the key's tenant: nothing to erase"),
  429: errorResponse('`too_many_erasures`: the tenant has 100 erasures not done yet; nothing was stored, retry once some are done'),
  ...URI_TOO_LONG,
  ...ENGINE_UNAVAILABLE,
} as const

export const ERASURE_RESPONSES = {
  200: { ...ERASURE_JOB, description: 'The job' },
  ...AUTH_ERRORS,
  404: errorResponse("`not_found`: no such job in the key's tenant"),
} as const

/** `limit` of the tenant's lists (erasure jobs, audit entries). */
export const LIST_QUERY = { type: 'object', properties: { limit: limitParam(50, 1000) } } as const

export const ERASURES_RESPONSES = {
  200: { type: 'object', required: ['erasures'], properties: { erasures: { type: 'array', items: ERASURE_JOB } }, description: "The tenant's erasure jobs, newest first" },
  ...AUTH_ERRORS,
  400: errorResponse('`invalid_query`: a bad limit'),
} as const

export const AUDIT_ENTRY = {
  type: 'object',
  required: ['at', 'tenant', 'action', 'subject', 'by', 'job'],
  properties: {
    at: { type: 'string' },
    tenant: { type: 'string' },
    action: { type: 'string', enum: ['erase', 'export'] },
    subject: { type: 'string', description: "The person's id, or its `sha256:` hash once an erasure's tombstone lapsed" },
    by: { type: 'string', description: 'The API key (key- and 12 hex digits of its SHA-256)' },
    job: { type: ['string', 'null'] },
  },
} as const

export const AUDIT_RESPONSES = {
  200: { type: 'object', required: ['entries'], properties: { entries: { type: 'array', items: AUDIT_ENTRY } }, description: "The tenant's audit trail, newest first" },
  ...AUTH_ERRORS,
  400: errorResponse('`invalid_query`: a bad limit'),
} as const
