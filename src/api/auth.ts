import { createHash, randomBytes } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { sendError } from './errors.ts'

/**
 * What a key may do. `write`, `read` and `admin` act within the key's tenant. `operator` is
 * server-wide, whatever tenant the key names: the segment rules every tenant runs and raw SQL over
 * every tenant's rows (docs/api.md, "Authentication and tenants").
 */
export const SCOPES = ['write', 'read', 'admin', 'operator'] as const
export type Scope = (typeof SCOPES)[number]

/** What each scope lets a key do, as a refusal words what is missing. */
const SCOPE_ACTS: Record<Scope, string> = {
  write: 'send events',
  read: 'read data',
  admin: "run SQL over its tenant's rows or administer its tenant (the admin scope)",
  operator: "change the segments every tenant of this server runs or run SQL over every tenant's rows (the operator scope)",
}

export interface ApiKey {
  key: string
  tenant: string
  scopes: Scope[]
}

export interface Principal {
  tenant: string
  scopes: ReadonlySet<Scope>
  /** Names the key in audit records without the secret: `key-` and 12 hex digits of its SHA-256. */
  keyId: string
}

export function keyId(key: string): string {
  return `key-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal
  }
}

/**
 * API keys map to a tenant and scopes. Keys come from TAGSTREAM_API_KEYS
 * ("key:tenant:scope+scope,…") or the config; a key is sent as `Authorization: Bearer KEY`,
 * `X-API-Key: KEY`, or `Authorization: Basic base64(KEY:)` (Segment's write key).
 */
export class Auth {
  private readonly keys = new Map<string, Principal>()

  constructor(keys: readonly ApiKey[]) {
    for (const k of keys) this.keys.set(k.key, { tenant: k.tenant, scopes: new Set(k.scopes), keyId: keyId(k.key) })
  }

  resolve(key: string): Principal | undefined {
    return this.keys.get(key)
  }

  /**
   * The principal of `key` when it has `scope`, else the refusal (401 none or unknown, 403 without
   * the scope). `missing` words the 401 for no key: where this kind of request carries one.
   */
  admit(key: string | null, scope: Scope, missing = MISSING_KEY): Principal | AuthRefusal {
    if (key === null) return { status: 401, code: 'unauthorized', message: missing }
    const principal = this.keys.get(key)
    if (!principal) return { status: 401, code: 'unauthorized', message: 'unknown API key' }
    if (!principal.scopes.has(scope)) {
      return { status: 403, code: 'forbidden', message: `this key may not ${SCOPE_ACTS[scope]} (its scopes: ${[...principal.scopes].join(', ') || 'none'})` }
    }
    return principal
  }

  /**
   * A Fastify preHandler that admits requests whose key has one of `scopes`; a refusal words the
   * first. The handler reads which from `req.principal.scopes`.
   */
  requireOneOf(scopes: readonly [Scope, ...Scope[]]) {
    return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const key = keyOf(req)
      const principal = key === null ? undefined : this.keys.get(key)
      const admitted = principal !== undefined && scopes.some((s) => principal.scopes.has(s)) ? principal : this.admit(key, scopes[0])
      if ('code' in admitted) return sendError(reply, admitted.status, admitted.code, admitted.message)
      req.principal = admitted
    }
  }

  /** A Fastify preHandler that admits requests whose key has `scope`. */
  require(scope: Scope) {
    return this.requireOneOf([scope])
  }
}

/** Why a key is not admitted. */
export interface AuthRefusal {
  status: 401 | 403
  code: 'unauthorized' | 'forbidden'
  message: string
}

const MISSING_KEY = 'missing API key: send "Authorization: Bearer <key>", "X-API-Key: <key>", or HTTP Basic with the key as the user name (a Segment write key)'

function keyOf(req: FastifyRequest): string | null {
  const auth = req.headers.authorization
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth)
    if (m) return m[1]!
    const basic = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(auth)
    if (basic) return basicKey(basic[1]!)
  }
  const x = req.headers['x-api-key']
  return typeof x === 'string' && x.length > 0 ? x : null
}

/**
 * HTTP Basic as Segment's and RudderStack's SDKs send it: the write key is the user name and the
 * password is empty. A key sent as the password alone (user name empty) is read too.
 */
function basicKey(encoded: string): string | null {
  const text = Buffer.from(encoded, 'base64').toString('utf8')
  const colon = text.indexOf(':')
  const user = colon === -1 ? text : text.slice(0, colon)
  const key = user !== '' ? user : text.slice(colon + 1)
  return key === '' ? null : key
}

/** Parses TAGSTREAM_API_KEYS: `key:tenant:write+read,key2:acme:read`. */
export function parseKeys(spec: string): ApiKey[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const [key, tenant, scopes] = entry.split(':')
      if (!key || !tenant || !scopes) throw new Error(`API key entry "${entry}" must look like key:tenant:write+read`)
      const list: Scope[] = []
      for (const s of scopes.split('+')) {
        if (!isScope(s)) throw new Error(`API key entry "${entry}": unknown scope "${s}" (${SCOPES.join(', ')})`)
        list.push(s)
      }
      return { key, tenant, scopes: list }
    })
}

function isScope(s: string): s is Scope {
  return (SCOPES as readonly string[]).includes(s)
}

/** A development key with every scope for the default tenant, printed by the demo. */
export function devKey(): ApiKey {
  return { key: `dev_${randomBytes(12).toString('hex')}`, tenant: 'default', scopes: [...SCOPES] }
}
