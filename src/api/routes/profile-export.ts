import { resolve } from 'node:path'
import { Readable } from 'node:stream'
import type { RouteModule } from '../context.ts'
import { sendError } from '../errors.ts'
import { checkUserIdParam } from './user-id-param.ts'
import { PROFILE_PARAMS } from '../schemas/profiles.ts'
import { needs } from '../schemas/common.ts'
import { EXPORT_MEDIA_TYPE, EXPORT_RESPONSES } from '../schemas/profile-export.ts'
import { erasedBelow, exportLines, PersonData, personIds, withFirst, type ExportItem } from '../privacy/person-data.ts'

/**
 * A person's access request (GDPR, CCPA): `GET /v1/profiles/:user_id/export` streams everything
 * the server holds about one person of the key's tenant as NDJSON (docs/privacy.md). Reading the
 * data is person-data.ts's; this module checks the key and the id, writes the audit entry, and
 * hands the lines to the response as the client reads them.
 */

/** Exports running at once on this server: each holds a DuckDB of its own (up to 256 MB) and reads the whole warehouse. */
export const MAX_RUNNING_EXPORTS = 2

export const profileExportRoutes: RouteModule = (app, ctx) => {
  /** Exports running, by tenant: one tenant holds one of the slots at most, so it cannot keep another's out. */
  const running = new Map<string, number>()
  const total = () => [...running.values()].reduce((a, b) => a + b, 0)

  app.get<{ Params: { user_id: string } }>(
    '/v1/profiles/:user_id/export',
    {
      // The key's tenant's person only: a tenant admin, or the server-wide operator (in its own tenant).
      preHandler: ctx.auth.requireOneOf(['admin', 'operator']),
      // A HEAD would run (and audit) a whole export to send no body.
      exposeHeadRoute: false,
      schema: {
        operationId: 'exportProfile',
        summary: "Everything the server holds about one person of the key's tenant, as NDJSON (an access request)",
        description: needs(
          'admin',
          "The person of the key's tenant (an `operator` key may too, in its tenant): the profile, the events in the warehouse and the log, segment changes and notifications, one JSON object a line, ending with an `end` line. Each export is audited. See docs/privacy.md.",
        ),
        tags: ['profiles'],
      },
      // The id is checked by the handler (400 naming user_id): documented only.
      config: { openapi: { params: PROFILE_PARAMS, response: EXPORT_RESPONSES } },
    },
    async (req, reply) => {
      const userId = req.params.user_id
      if (!checkUserIdParam(reply, userId)) return reply
      const mine = req.principal!.tenant
      if (total() >= MAX_RUNNING_EXPORTS || (running.get(mine) ?? 0) >= 1) {
        reply.header('retry-after', String(ctx.config.backpressure.retryAfterSeconds))
        const why = (running.get(mine) ?? 0) >= 1 ? 'an export of this tenant is running on this server' : `${MAX_RUNNING_EXPORTS} exports are running on this server`
        return sendError(reply, 503, 'busy', `${why}; retry later`)
      }
      running.set(mine, (running.get(mine) ?? 0) + 1)
      let data: PersonData | null = null
      let released = false
      const release = () => {
        if (released) return
        released = true
        const left = (running.get(mine) ?? 1) - 1
        if (left === 0) running.delete(mine)
        else running.set(mine, left)
        void data?.close().catch((err: unknown) => ctx.logger.warn({ err }, 'export: closing the warehouse reader failed'))
      }
      try {
        const tenant = req.principal!.tenant
        const profileJson = await ctx.engine.profileJson(tenant, userId)
        const ids = personIds(userId, profileJson)
        const sources = {
          log: ctx.log,
          partitions: ctx.partitions,
          warehouseRoot: resolve(ctx.config.dataDir, 'warehouse'),
          warehouse: ctx.config.warehouse,
          erasedBelow: await erasedBelow(ctx.state, tenant, ids),
          inbox: ctx.state.inbox,
        }
        data = await PersonData.open(sources, { tenant, ids })
        const all = data.items()
        let items: AsyncIterable<ExportItem> = all
        if (profileJson === null) {
          // No profile: a 404 unless something else of theirs is held, which the first item tells.
          const first = await all.next()
          if (first.done === true) {
            release()
            return sendError(reply, 404, 'not_found', `nothing is held for user "${userId}"`)
          }
          items = withFirst(first.value, all)
        }
        await ctx.state.privacy.addAudit({ at: Date.now(), tenant, action: 'export', subject: userId, by: req.principal!.keyId, job: null })
        const header = { tenant, user_id: userId, ids, generated_at: new Date().toISOString() }
        const body = Readable.from(thenRelease(exportLines(header, profileJson, items), release), { objectMode: false })
        // A client that hangs up: the reads stop and DuckDB is freed.
        reply.raw.once('close', release)
        return reply.header('cache-control', 'no-store').type(`${EXPORT_MEDIA_TYPE}; charset=utf-8`).send(body)
      } catch (err) {
        release()
        throw err
      }
    },
  )
}

/** The lines, then `release` once they have ended, failed or been abandoned. */
async function* thenRelease(lines: AsyncIterable<string>, release: () => void): AsyncGenerator<string> {
  try {
    yield* lines
  } finally {
    release()
  }
}
