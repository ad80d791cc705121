import type { RunKind, RunRecord } from '../../predict/index.ts'
import { RunBusyError, RunStore } from '../../predict/index.ts'
import type { Principal } from '../auth.ts'
import type { RouteModule } from '../context.ts'
import { errorBody } from '../errors.ts'
import { needs } from '../schemas/common.ts'
import { RUN_PARAMS, RUN_RESPONSES, RUNS_PAGE, RUNS_QUERY, RUNS_RESPONSES, START_BODY, START_RESPONSES } from '../schemas/predictions.ts'

/** A run as a key sees it: a tenant key only its own tenant's part; the operator every tenant's. */
function visible(r: RunRecord, p: Principal): RunRecord {
  if (p.scopes.has('operator')) return r
  const own = r.tenants[p.tenant]
  return { ...r, tenants: own === undefined ? {} : { [p.tenant]: own } }
}

/**
 * Prediction runs (docs/predictions.md): their records, with each model's held-out quality next to
 * its baseline's, and starting one by hand (the operator's: a run trains every tenant's models).
 */
export const predictionsRoutes: RouteModule = (app, ctx) => {
  const store = new RunStore(ctx.config.dataDir)

  app.get<{ Querystring: { limit?: number } }>(
    '/v1/predictions/runs',
    {
      preHandler: ctx.auth.require('read'),
      schema: { operationId: 'listPredictionRuns', tags: ['predictions'], summary: 'The newest prediction runs', description: needs('read'), querystring: RUNS_QUERY, response: RUNS_RESPONSES },
    },
    (req) => ({ running: ctx.predictions?.running ?? false, runs: store.list(req.query.limit ?? RUNS_PAGE.fallback).map((r) => visible(r, req.principal!)) }),
  )

  app.get<{ Params: { id: string } }>(
    '/v1/predictions/runs/:id',
    {
      preHandler: ctx.auth.require('read'),
      schema: { operationId: 'getPredictionRun', tags: ['predictions'], summary: 'One prediction run', description: needs('read'), response: RUN_RESPONSES },
      config: { openapi: { params: RUN_PARAMS } },
    },
    async (req, reply) => {
      const r = store.get(req.params.id)
      if (r === null) return reply.code(404).send(errorBody('not_found', `no prediction run ${JSON.stringify(req.params.id.slice(0, 100))}`))
      return visible(r, req.principal!)
    },
  )

  app.post<{ Body: { kind?: RunKind } | undefined }>(
    '/v1/predictions/runs',
    {
      preHandler: ctx.auth.require('operator'),
      schema: {
        operationId: 'startPredictionRun',
        tags: ['predictions'],
        summary: 'Start a prediction run now',
        description: needs('operator', 'Trains (and scores) every tenant, as the daily schedule does; answers at once.'),
        body: START_BODY,
        response: START_RESPONSES,
      },
    },
    async (req, reply) => {
      const kind = req.body?.kind ?? 'run'
      if (ctx.predictions === undefined) return reply.code(409).send(errorBody('run_in_progress', 'this server runs no predictions'))
      try {
        const run = ctx.predictions.start(kind)
        run.done.catch((err: unknown) => ctx.logger.warn({ err }, 'prediction run not recorded'))
      } catch (err) {
        if (err instanceof RunBusyError) return reply.code(409).send(errorBody('run_in_progress', err.message))
        throw err
      }
      return reply.code(202).send({ started: kind })
    },
  )
}
