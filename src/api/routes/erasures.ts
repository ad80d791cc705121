import type { ErasureJob } from '../../state/state-store.ts'
import type { RouteModule } from '../context.ts'
import { sendError } from '../errors.ts'
import { MAX_UNFINISHED_ERASURES, requestErase } from '../privacy/request-erase.ts'
import { needs, type JsonSchema } from '../schemas/common.ts'
import { PROFILE_PARAMS } from '../schemas/profiles.ts'
import { AUDIT_RESPONSES, ERASE_RESPONSES, ERASURE_PARAMS, ERASURE_RESPONSES, LIST_QUERY, ERASURES_RESPONSES } from '../schemas/privacy.ts'
import { parseLimit } from './profile-query.ts'

/** Erasing a person, the jobs that do it, and the audit trail of erases and exports (docs/privacy.md). */
export const erasuresRoutes: RouteModule = (app, ctx) => {
  // The key's tenant's people: an admin erases its tenant's, never another's.
  const admin = ctx.auth.requireOneOf(['admin', 'operator'])
  const tags = ['privacy']

  app.delete<{ Params: { user_id: string } }>(
    '/v1/profiles/:user_id',
    {
      preHandler: admin,
      schema: {
        operationId: 'eraseProfile',
        summary: "Erase a person of the key's tenant: live state, checkpoints, the warehouse's rows, the dead letters shown",
        description: needs(
          'admin',
          "Also `operator`. The person's linked ids go too. Answers with a job to poll; events the log took before the erase are erased, later ones start a new profile (docs/privacy.md).",
        ),
        tags,
      },
      config: { openapi: { params: PROFILE_PARAMS, response: ERASE_RESPONSES } },
    },
    async (req, reply) => {
      const p = req.principal!
      const r = await requestErase(ctx, p.tenant, req.params.user_id, p.keyId)
      if ('unknown' in r) return sendError(reply, 404, 'not_found', `no profile and no unread event for user "${req.params.user_id}": nothing to erase`)
      if ('busy' in r) {
        reply.header('retry-after', String(ctx.config.backpressure.retryAfterSeconds))
        return sendError(reply, 429, 'too_many_erasures', `the tenant has ${r.busy} erasures not done yet, the most allowed (${MAX_UNFINISHED_ERASURES}): nothing was stored; retry once some are done`)
      }
      return reply.code(202).send({ job: jobView(r.job), existing: r.existing, status_url: `/v1/erasures/${r.job.id}` })
    },
  )

  app.get<{ Params: { job: string } }>(
    '/v1/erasures/:job',
    {
      preHandler: admin,
      schema: { operationId: 'getErasure', summary: 'One erasure job and its steps', description: needs('admin', 'Also `operator`, for any tenant.'), tags },
      config: { openapi: { params: ERASURE_PARAMS, response: ERASURE_RESPONSES } },
    },
    async (req, reply) => {
      const p = req.principal!
      const job = req.params.job.length <= 64 ? await ctx.state.privacy.getErasure(req.params.job) : null
      if (job === null || (job.tenant !== p.tenant && !p.scopes.has('operator'))) return sendError(reply, 404, 'not_found', `no erasure job "${req.params.job}"`)
      return jobView(job)
    },
  )

  /** A list of the key's tenant, newest first: `limit` 1–1000, default 50. */
  const tenantList = (url: string, schema: { operationId: string; summary: string }, response: Readonly<Record<string, JsonSchema>>, list: (tenant: string, limit: number) => Promise<object>) =>
    app.get<{ Querystring: { limit?: string } }>(
      url,
      { preHandler: admin, schema: { ...schema, description: needs('admin', 'Also `operator`.'), tags }, config: { openapi: { querystring: LIST_QUERY, response } } },
      async (req, reply) => {
        const limit = parseLimit(req.query.limit, 50, 1000)
        if (!limit.ok) return sendError(reply, 400, 'invalid_query', limit.message, 'limit')
        return list(req.principal!.tenant, limit.value)
      },
    )
  tenantList('/v1/erasures', { operationId: 'listErasures', summary: "The key's tenant's erasure jobs, newest first" }, ERASURES_RESPONSES, async (tenant, limit) => ({
    erasures: (await ctx.state.privacy.listErasures({ tenant, active: false, limit })).map(jobView),
  }))
  tenantList('/v1/audit', { operationId: 'listAudit', summary: "The key's tenant's audit trail: who erased or exported whom, when" }, AUDIT_RESPONSES, async (tenant, limit) => ({
    entries: (await ctx.state.privacy.auditEntries(tenant, limit)).map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
  }))
}

function jobView(j: ErasureJob) {
  return {
    id: j.id,
    tenant: j.tenant,
    ids: j.ids,
    status: j.status,
    steps: { log: j.status !== 'accepted', engine: j.engine, warehouse: j.warehouse },
    requested_by: j.by,
    requested_at: new Date(j.requestedAt).toISOString(),
    finished_at: j.finishedAt === null ? null : new Date(j.finishedAt).toISOString(),
    tombstone: j.tombstone,
    error: j.error,
  }
}
