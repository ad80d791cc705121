import { readFileSync } from 'node:fs'
import swagger, { type SwaggerTransform } from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { ERROR_BODY, type JsonSchema } from './schemas/common.ts'
import { DOCUMENT_TAGS } from './schemas/tags.ts'

/** Where the UI lives; the document is at `${DOCS_PREFIX}/json` (and `/yaml`). */
export const DOCS_PREFIX = '/docs'

/** Names of the security schemes in the document: a route's `schema.security` may only use these. */
export const SECURITY_SCHEMES = { bearer: 'bearerAuth', header: 'apiKeyHeader' } as const

/** `schema.security` of a route that needs an API key (the document's default, so most routes omit it). */
export const API_KEY_SECURITY: Array<Record<string, string[]>> = [{ [SECURITY_SCHEMES.bearer]: [] }, { [SECURITY_SCHEMES.header]: [] }]

/** What a key is (src/api/auth.ts, docs/api.md "Authentication and tenants"). */
const KEY_NOTE =
  'A key maps to one tenant and scopes (`write`, `read`, `admin`; TAGSTREAM_API_KEYS="key:tenant:write+read"); each operation says the scope it needs. Data is always the key\'s tenant\'s.'

/** `schema.security` of a route open to anyone (health, metrics). */
export const NO_SECURITY: [] = []

/** The shape of every error response (src/api/errors.ts), for a route's `response: { 400: ERROR_RESPONSE_SCHEMA }`. */
export const ERROR_RESPONSE_SCHEMA = ERROR_BODY

/**
 * Parts of a route's schema that go into the document only, never to Fastify.
 *
 * - `response`, on every route: the answers per status. Fastify would compile a `schema.response`
 *   into a fast-json-stringify serializer that drops properties the schema does not list, coerces
 *   types, and fails with a 500 when an answer (an error from a plugin, say) does not fit: the
 *   answers would follow the document. Here they cannot change an answer; the test
 *   (test/api/openapi-responses.test.ts) checks the real answers against them instead.
 * - `body`, `querystring`, `params` of routes that read and check their input themselves: the
 *   collector's raw bodies (gzip, NDJSON, exact bytes kept for dead letters), the game's JSON-or-form
 *   bodies, query strings the handler answers with its own `400 invalid_query` naming the `field`.
 *   Given to Fastify these would be validated (and coerced, and refused with Fastify's 400) before
 *   the handler runs: slower on the collector's hot path, and different answers.
 *
 * Parts Fastify does check (the JSON bodies of PUT /v1/segments/:id and POST /v1/query, say) stay in
 * `schema`. documentRouteOnly, the swagger transform, adds these to the document.
 */
export interface DocumentOnly {
  body?: JsonSchema
  /** Media types of `body` when it is one schema for all (otherwise `body.content` names them). */
  consumes?: readonly string[]
  querystring?: JsonSchema
  params?: JsonSchema
  /** By status: `200`, `'4xx'`. */
  response?: Readonly<Record<string, JsonSchema>>
}

declare module 'fastify' {
  interface FastifyContextConfig {
    openapi?: DocumentOnly
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
 * serves its bundled assets from /docs/static). Must run before the routes are added: the document
 * is built from an onRoute hook, which only sees routes added after it.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'tagstream',
        version: packageVersion(),
        description: 'Real-time user segmentation and event analytics for games and apps. Every error answer has the shape `{"error":{"code","message","field"}}`. See docs/api.md.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      // Relative: the document is served by the server it describes, whatever its host and port
      // (`tagstream serve --host/--port`), so the UI and generated clients default to that server.
      servers: [{ url: '/', description: 'The server that serves this document' }],
      tags: DOCUMENT_TAGS,
      components: {
        securitySchemes: {
          [SECURITY_SCHEMES.bearer]: { type: 'http', scheme: 'bearer', description: `API key sent as \`Authorization: Bearer <key>\`. ${KEY_NOTE}` },
          [SECURITY_SCHEMES.header]: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: `API key sent as \`X-API-Key: <key>\`. ${KEY_NOTE}` },
        },
      },
      // Either header works; routes open to anyone say `security: []`.
      security: API_KEY_SECURITY,
    },
    transform: documentRouteOnly,
  })
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    staticCSP: DOCS_CSP,
    uiConfig: { deepLinking: true, persistAuthorization: false },
  })
}

/** Adds a route's `config.openapi` to the documented schema (only to the document, never to validation). */
export const documentRouteOnly: SwaggerTransform = ({ schema, url, route }) => {
  const only = route.config?.openapi
  if (only === undefined) return { schema, url }
  const merged: Record<string, unknown> = { ...schema }
  for (const part of ['body', 'consumes', 'querystring', 'params', 'response'] as const) {
    if (only[part] !== undefined && merged[part] === undefined) merged[part] = only[part]
  }
  return { schema: merged, url }
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
