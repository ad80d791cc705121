import type { RouteModule } from '../context.ts'
import { needs } from '../schemas/common.ts'
import { DELIVERED_BODY, DELIVERED_RESPONSES, INBOX_PAGE, INBOX_PARAMS, INBOX_QUERY, INBOX_RESPONSES } from '../schemas/inbox.ts'
import { inboxView } from '../inbox/inbox-view.ts'
import { checkUserIdParam } from './user-id-param.ts'

/**
 * A player's inbox (docs/streams.md, "Player notifications"): the messages `emit: player` triggers
 * left for the player and the game has not shown yet. The game reads them at login and says which
 * it showed; those are gone. Per tenant: a key sees its own tenant's players only.
 */
export const inboxRoutes: RouteModule = (app, ctx) => {
  app.get<{ Params: { user_id: string }; Querystring: { limit?: number } }>(
    '/v1/profiles/:user_id/inbox',
    {
      preHandler: ctx.auth.require('read'),
      schema: {
        operationId: 'getInbox',
        tags: ['profiles'],
        summary: "A player's undelivered messages, oldest first",
        description: needs('read', 'What `emit: player` triggers wrote for this user and no one has marked delivered. See docs/streams.md, "Player notifications".'),
        querystring: INBOX_QUERY,
        response: INBOX_RESPONSES,
      },
      config: { openapi: { params: INBOX_PARAMS } },
    },
    async (req, reply) => {
      const userId = req.params.user_id
      if (!checkUserIdParam(reply, userId)) return reply
      const messages = await ctx.state.inbox.undelivered(req.principal!.tenant, userId, req.query.limit ?? INBOX_PAGE.fallback)
      return { user_id: userId, messages: messages.map(inboxView) }
    },
  )

  app.post<{ Params: { user_id: string }; Body: { ids: string[] } }>(
    '/v1/profiles/:user_id/inbox/delivered',
    {
      preHandler: ctx.auth.require('write'),
      schema: {
        operationId: 'markInboxDelivered',
        tags: ['profiles'],
        summary: "Marks a player's messages delivered: they leave the inbox",
        description: needs('write', 'Ids the player was shown (from `GET /v1/profiles/{user_id}/inbox`); unknown or already delivered ids are ignored.'),
        body: DELIVERED_BODY,
        response: DELIVERED_RESPONSES,
      },
      config: { openapi: { params: INBOX_PARAMS } },
    },
    async (req, reply) => {
      const userId = req.params.user_id
      if (!checkUserIdParam(reply, userId)) return reply
      return { delivered: await ctx.state.inbox.markDelivered(req.principal!.tenant, userId, req.body.ids) }
    },
  )
}
