import { readFileSync } from 'node:fs'
import swagger, { type SwaggerTransform } from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

/** Where the UI lives; the document is at `${DOCS_PREFIX}/json` (and `/yaml`). */
export const DOCS_PREFIX = '/docs'

/** Names of the security schemes in the document: a route's `schema.security` may only use these. */
export const SECURITY_SCHEMES = { bearer: 'bearerAuth', header: 'apiKeyHeader' } as const

/** `schema.security` of a route that needs an API key (the document's default, so most routes omit it). */
export const API_KEY_SECURITY: Array<Record<string, string[]>> = [{ [SECURITY_SCHEMES.bearer]: [] }, { [SECURITY_SCHEMES.header]: [] }]

/** `schema.security` of a route open to anyone (health, metrics). */
export const NO_SECURITY: [] = []

/** The shape of every error response (src/api/errors.ts), for a route's `response: { 400: ERROR_RESPONSE_SCHEMA }`. */
export const ERROR_RESPONSE_SCHEMA = {
  type: 'object',
  description: 'An error: `code` to branch on, `message` for people, `field` when one field is at fault',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const

/**
 * Documentation-only request body, for routes that read their body themselves (custom content-type
 * parser, raw bytes, gzip): a `schema.body` there would make Fastify validate the parsed Buffer.
 * `config: { openapiBody: { consumes: ['application/x-ndjson'], schema: {...} } }` documents it
 * without validating anything.
 */
export interface OpenApiBody {
  consumes: readonly string[]
  schema: Record<string, unknown>
  description?: string
}

declare module 'fastify' {
  interface FastifyContextConfig {
    openapiBody?: OpenApiBody
  }
}

/**
 * The browser may load nothing but the page's own assets: no CDN, no validator badge, no fonts
 * from the internet. (The plugin's own `staticCSP: true` allows `https:` styles and fonts and
 * upgrades requests to https, which breaks the UI on plain-http localhost.)
 */
const DOCS_CSP = [
  "default-src 'self'",
  "base-uri 'self'",
  "connect-src 'self'",
  "font-src 'self' data:",
  "frame-ancestors 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self' 'unsafe-inline'",
].join('; ')

/**
 * Registers OpenAPI generation (@fastify/swagger) and the UI at /docs (@fastify/swagger-ui, which
 * serves its bundled assets from /docs/static). Must run before any route is added: the document
 * is built from an onRoute hook, which only sees routes added after it.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'tagstream',
        version: packageVersion(),
        description: 'Real-time user segmentation and event analytics for games and apps.',
      },
      components: {
        securitySchemes: {
          [SECURITY_SCHEMES.bearer]: { type: 'http', scheme: 'bearer', description: 'API key sent as `Authorization: Bearer <key>`' },
          [SECURITY_SCHEMES.header]: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'API key sent as `X-API-Key: <key>`' },
        },
      },
      // Either header works; routes open to anyone say `security: []`.
      security: API_KEY_SECURITY,
    },
    transform: documentRawBody,
  })
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    staticCSP: DOCS_CSP,
    uiConfig: { deepLinking: true, persistAuthorization: false },
  })
}

/** Adds `config.openapiBody` to the documented schema (only to the document, never to validation). */
export const documentRawBody: SwaggerTransform = ({ schema, url, route }) => {
  const body = route.config?.openapiBody
  if (body === undefined || schema?.body !== undefined) return { schema, url }
  const documented = body.description === undefined ? body.schema : { ...body.schema, description: body.description }
  return { schema: { ...schema, body: documented, consumes: body.consumes }, url }
}

let version: string | undefined

/** The version in package.json, read once (the sources run directly, so it sits two folders up). */
export function packageVersion(): string {
  if (version === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown }
      version = typeof pkg.version === 'string' ? pkg.version : '0.0.0'
    } catch {
      version = '0.0.0'
    }
  }
  return version
}
