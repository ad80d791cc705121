import { AUTH_ERRORS, errorResponse, JSON_BODY_ERRORS, limitParam, pathParams, URI_TOO_LONG } from './common.ts'

/** Runs a list shows at most, and by default. */
export const RUNS_PAGE = { max: 20, fallback: 10 } as const

/** A run as the API shows it (docs/predictions.md, "Run records"): the key's tenant's part only, unless the key has the operator scope. */
export const RUN = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'The run, named by its start time' },
    kind: { type: 'string', enum: ['run', 'train', 'score'] },
    status: { type: 'string', enum: ['running', 'succeeded', 'failed', 'abandoned'] },
    startedAt: { type: 'string' },
    finishedAt: { type: ['string', 'null'] },
    asOf: { type: 'string', description: 'Features read the days before this instant’s UTC day' },
    modelsFrom: { type: ['string', 'null'], description: 'For a `score` run: the training run whose models scored' },
    error: { type: ['string', 'null'] },
    timings: { type: 'object', additionalProperties: { type: 'number' } },
    tenants: {
      type: 'object',
      description:
        "Per tenant: `training` (each model's status, held-out quality next to its baseline's, calibration by decile, and the fitted weights), `scored` (prediction events appended) and `published`",
      additionalProperties: { type: 'object', additionalProperties: true },
    },
  },
  required: ['id', 'kind', 'status', 'startedAt', 'asOf', 'tenants'],
} as const

export const RUNS_QUERY = { type: 'object', properties: { limit: limitParam(RUNS_PAGE.fallback, RUNS_PAGE.max) } } as const

export const RUNS_RESPONSES = {
  200: {
    type: 'object',
    properties: { running: { type: 'boolean', description: 'Whether this server is running one now' }, runs: { type: 'array', items: RUN } },
    required: ['running', 'runs'],
    description: 'The newest runs, newest first',
  },
  400: errorResponse('`invalid_request`: a limit of 1 to 20'),
  ...AUTH_ERRORS,
} as const

export const RUN_PARAMS = pathParams({ id: { type: 'string', description: 'A run id, as the list gives it' } })

export const RUN_RESPONSES = { 200: { ...RUN, description: 'The run' }, 404: errorResponse('`not_found`: no run of that id'), ...AUTH_ERRORS, ...URI_TOO_LONG } as const

export const START_BODY = {
  type: 'object',
  properties: { kind: { type: 'string', enum: ['run', 'train', 'score'], default: 'run', description: '`run` (train, then score: the daily job), `train` or `score`' } },
  additionalProperties: false,
} as const

export const START_RESPONSES = {
  202: { type: 'object', properties: { started: { type: 'string' } }, required: ['started'], description: 'Started in the background; its record appears in the list' },
  400: errorResponse('`invalid_request`: kind is run, train or score'),
  409: errorResponse('`run_in_progress`: a prediction run is going; they never overlap'),
  ...AUTH_ERRORS,
  ...JSON_BODY_ERRORS,
} as const
