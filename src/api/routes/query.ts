import type { RouteModule } from '../context.ts'
import { sendError } from '../errors.ts'
import { needs } from '../schemas/common.ts'
import { QUERY_BODY, QUERY_RESPONSES, REPORT_PARAMS, REPORT_QUERY, REPORT_RESPONSES, REPORTS_RESPONSES } from '../schemas/warehouse.ts'
import { openWarehouse, QUERY_DEFAULTS, QueryError, VIEW_NAMES, type Warehouse } from '../../warehouse/query/index.ts'
import { listReports, ReportParamError, runReport, UnknownReportError } from '../../warehouse/reports/index.ts'

/**
 * SQL over the Parquet warehouse: `POST /v1/query` (one read-only statement) and the named reports.
 * The warehouse (`<dataDir>/warehouse`) is shared by every request. It is opened when the server
 * starts if it runs the sink (so its sessions tables are built before the first report asks), and
 * on first use otherwise.
 */
export const queryRoutes: RouteModule = (app, ctx) => {
  const read = ctx.auth.require('read')
  // SQL takes a tenant's admin scope and reads that tenant's rows only (docs/tenancy.md); with the
  // server-wide operator scope it reads every tenant's. Reports are filtered to the key's tenant.
  const sqlScopes = ctx.auth.requireOneOf(['admin', 'operator'])
  const tags = ['warehouse']
  let opening: Promise<Warehouse> | null = null
  const warehouse = (): Promise<Warehouse> => {
    // The server's retention: a day past it is never shown, even before the sink has dropped its files.
    opening ??= openWarehouse(`${ctx.config.dataDir}/warehouse`, {
      retentionDays: ctx.config.retentionDays,
      materialiseSessions: true,
      onError: (err, what) => ctx.logger.warn({ err, what }, 'warehouse: background work failed'),
      logger: ctx.logger,
    }).catch((err: unknown) => {
      opening = null
      throw err
    })
    return opening
  }
  // The sink's flushes and merges reach the views at once (a query then answers from them without
  // a check of its own); only a warehouse already open needs telling.
  const stopListening = ctx.warehouseFiles.on(
    () =>
      void opening?.then(
        (wh) => wh.filesChanged(),
        () => undefined,
      ),
  )
  if (ctx.config.warehouse) {
    app.addHook('onReady', async () => {
      warehouse().catch((err: unknown) => ctx.logger.warn({ err }, 'warehouse: could not open at start; it is tried again at the first query'))
    })
  }
  app.addHook('onClose', async () => {
    stopListening()
    if (opening) (await opening.catch(() => null))?.close()
  })

  app.post<{ Body: { sql: string; limit?: number } }>(
    '/v1/query',
    {
      preHandler: sqlScopes,
      schema: {
        operationId: 'runQuery',
        summary: 'Run one read-only SQL query (SELECT or WITH) over the warehouse views',
        description: needs(
          'admin',
          `Views: ${VIEW_NAMES.join(', ')}. An admin key's SQL reads its tenant's rows only (the views, no files: docs/tenancy.md); an operator key's reads every tenant's. See docs/warehouse.md.`,
        ),
        tags,
        body: QUERY_BODY,
      },
      config: { openapi: { response: QUERY_RESPONSES } },
    },
    async (req, reply) => {
      try {
        const p = req.principal!
        const tenant = p.scopes.has('operator') ? undefined : p.tenant
        return await (await warehouse()).query(req.body.sql, { maxRows: req.body.limit ?? QUERY_DEFAULTS.maxRows, owner: p.tenant, tenant })
      } catch (err) {
        if (err instanceof QueryError) return sendError(reply, err.status, err.code, err.message)
        throw err
      }
    },
  )

  const listSchema = { operationId: 'listReports', summary: 'The named reports, with their questions, parameters and SQL', description: needs('read'), tags }
  app.get('/v1/reports', { preHandler: read, schema: listSchema, config: { openapi: { response: REPORTS_RESPONSES } } }, async () => ({
    reports: listReports(),
  }))

  // A repeated key (`?providers=a&providers=b`) arrives as an array: list parameters take it, others answer 400.
  app.get<{ Params: { name: string }; Querystring: Record<string, string | string[]> }>(
    '/v1/reports/:name',
    {
      preHandler: read,
      schema: {
        operationId: 'runReport',
        summary: "Run a named report over the key's tenant; report parameters in the query string",
        description: needs('read', "Each report takes only its own parameters (GET /v1/reports lists them); the tenant is always the key's."),
        tags,
      },
      // The report and its parameters are checked by runReport (404 for an unknown report, 400 naming a bad parameter): documented only.
      config: { openapi: { params: REPORT_PARAMS, querystring: REPORT_QUERY, response: REPORT_RESPONSES } },
    },
    async (req, reply) => {
      try {
        // The tenant comes from the key, never from the query string.
        return await runReport(await warehouse(), req.params.name, { ...req.query, tenant: req.principal!.tenant }, { owner: req.principal!.tenant })
      } catch (err) {
        if (err instanceof UnknownReportError) return sendError(reply, 404, 'not_found', err.message)
        if (err instanceof ReportParamError) return sendError(reply, 400, 'invalid_query', err.message, err.param)
        if (err instanceof QueryError) return sendError(reply, err.status, err.code, err.message)
        throw err
      }
    },
  )
}
