import { RuleError } from '../../rules/index.ts'
import { TENANT_RULE_LIMITS } from '../../engine/tenant-rules.ts'
import type { RouteModule } from '../context.ts'
import { sendError } from '../errors.ts'
import { needs } from '../schemas/common.ts'
import { SEGMENT_PARAMS } from '../schemas/segments.ts'
import { DELETE_SEGMENT_RESPONSES, GET_RULES_RESPONSES, PUT_RULES_RESPONSES, RULE_HISTORY_QUERY, RULE_HISTORY_RESPONSES } from '../schemas/tenant-rules.ts'
import { parseLimit } from './profile-query.ts'
import { ruleErrorBody } from './segment-input.ts'

/** YAML and plain text arrive as the text they are; JSON (which is YAML) is parsed by Fastify and written back. */
const TEXT_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain']

/**
 * A tenant's own rules as one document (docs/tenancy.md): export (GET), import (PUT, replacing the
 * whole set), the versions with who changed them, and removing one segment of its own.
 */
export const tenantRulesRoutes: RouteModule = async (app, ctx) => {
  const admin = ctx.auth.requireOneOf(['admin', 'operator'])
  const tags = ['segments']

  app.get(
    '/v1/rules',
    {
      preHandler: ctx.auth.require('read'),
      schema: { operationId: 'getTenantRules', summary: "The key's tenant's own segments and triggers (export)", description: needs('read'), tags },
      config: { openapi: { response: GET_RULES_RESPONSES } },
    },
    async (req) => ctx.engine.tenantRules(req.principal!.tenant),
  )

  await app.register(async (scope) => {
    scope.addContentTypeParser(TEXT_TYPES, { parseAs: 'string' }, (_req, body, done) => done(null, body))
    scope.put<{ Body: unknown }>(
      '/v1/rules',
      {
        preHandler: admin,
        // Twice the cap: a set a little over it gets the cap's own message, not a bare 413.
        bodyLimit: 2 * TENANT_RULE_LIMITS.maxBytes,
        schema: {
          operationId: 'putTenantRules',
          summary: "Replace the key's tenant's own segments and triggers (import)",
          description: needs(
            'admin',
            `The body is a rule set in the rules file's format (YAML, or JSON), without \`traits\` (those are the rules file's). It replaces the tenant's own rules as a whole. At most ${TENANT_RULE_LIMITS.maxBytes} bytes, ${TENANT_RULE_LIMITS.maxSegments} segments and ${TENANT_RULE_LIMITS.maxTriggers} triggers.`,
          ),
          tags,
        },
        config: { openapi: { response: PUT_RULES_RESPONSES } },
      },
      async (req, reply) => {
        const yaml = typeof req.body === 'string' ? req.body : JSON.stringify(req.body ?? {})
        try {
          return await ctx.engine.replaceTenantRules(req.principal!.tenant, yaml, req.principal!.keyId)
        } catch (err) {
          if (err instanceof RuleError) return reply.code(400).send(ruleErrorBody(err))
          throw err
        }
      },
    )
  })

  app.get<{ Querystring: { limit?: string } }>(
    '/v1/rules/history',
    {
      preHandler: admin,
      schema: { operationId: 'tenantRuleHistory', summary: "Who changed the key's tenant's rules, and when", description: needs('admin'), tags },
      config: { openapi: { querystring: RULE_HISTORY_QUERY, response: RULE_HISTORY_RESPONSES } },
    },
    async (req, reply) => {
      const limit = parseLimit(req.query.limit, 20, 1_000)
      if (!limit.ok) return sendError(reply, 400, 'invalid_query', limit.message, 'limit')
      return { versions: await ctx.engine.ruleHistory(req.principal!.tenant, limit.value) }
    },
  )

  app.delete<{ Params: { id: string } }>(
    '/v1/segments/:id',
    {
      preHandler: admin,
      schema: {
        operationId: 'deleteSegment',
        summary: "Remove a segment of the key's tenant's own rules",
        description: needs('admin', "A segment of the rules file by that name applies to the tenant again; the rules file's segments themselves are the operator's."),
        tags,
      },
      config: { openapi: { params: SEGMENT_PARAMS, response: DELETE_SEGMENT_RESPONSES } },
    },
    async (req, reply) => {
      if (await ctx.engine.deleteSegment(req.params.id, req.principal!.tenant, req.principal!.keyId)) return reply.code(204).send()
      return sendError(reply, 404, 'not_found', `tenant "${req.principal!.tenant}" has no segment of its own named "${req.params.id}" (the rules file's segments are the operator's)`)
    },
  )
}
