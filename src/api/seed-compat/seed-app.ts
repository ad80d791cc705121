import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { parseForm } from '../../game/index.ts'
import type { ApiContext } from '../context.ts'
import { GAME_BODY_LIMIT, gameDeps } from '../routes/game.ts'
import { seedRoutes } from './seed-routes.ts'

/**
 * The seed listener (`serve --seed-port`, docs/game.md "Seed commands"): seeds 002 and 003's own
 * routes, at their own paths, on a port of their own, so the seeds' command lines work as written
 * with only the host and port changed, and no path of theirs (`/` above all) meets the API's or
 * the dashboard's. It takes no API key (the seeds send none) and acts for one tenant
 * (`--seed-tenant`): bind it where only the game's clients reach it.
 */
export async function buildSeedApp(ctx: ApiContext, tenant: string): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.logger as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: GAME_BODY_LIMIT,
    requestTimeout: ctx.config.http.requestTimeoutMs,
    return503OnClosing: true,
    forceCloseConnections: true,
  })
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseForm(String(body)))
    } catch (err) {
      done(err as Error, undefined)
    }
  })
  // ab sends its -T type with a body (or none); an unknown type with no body is no body.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, String(body).length === 0 ? {} : null))
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    if (status >= 500) ctx.logger.error({ err }, 'seed route failed')
    void reply
      .code(status)
      .type('text/plain; charset=utf-8')
      .send(status >= 500 ? 'internal error; the request was not applied\n' : `${err.message}\n`)
  })
  app.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .type('text/plain; charset=utf-8')
      .send(`no seed route ${req.method} ${req.url.split('?')[0]}\n`)
  })
  // The seeds' login answers one line of text with no room for messages: the inbox keeps them for
  // the API's login and GET /v1/profiles/:id/inbox (docs/streams.md).
  const { takeMessages: _kept, ...deps } = gameDeps(ctx)
  seedRoutes(app, deps, tenant)
  return app
}
