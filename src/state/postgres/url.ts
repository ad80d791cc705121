/** Where a Postgres state store lives: the server, and the schema its tables are created in. */
export interface PostgresLocation {
  /** The URL as pg reads it, without the parameters only tagstream understands. */
  connectionString: string
  schema: string
  /** Connections in the pool. */
  poolSize: number
}

export const DEFAULT_SCHEMA = 'tagstream'
export const DEFAULT_POOL_SIZE = 10

// The schema is spliced into SQL text (identifiers cannot be bind parameters), so only plain
// lowercase identifiers are accepted: nothing to quote, nothing to inject, no case surprises in psql.
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/

/**
 * Reads `postgres://[user[:password]@]host[:port]/database?schema=name&pool=n`; every other
 * parameter (sslmode, application_name…) goes to pg unchanged.
 */
export function parsePostgresUrl(url: string): PostgresLocation {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new Error('the state URL is not a valid URL; expected postgres://host:port/database?schema=name')
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') throw new Error(`the state URL must start with postgres:// or postgresql://, got "${parsed.protocol}//"`)
  const schema = parsed.searchParams.get('schema') ?? DEFAULT_SCHEMA
  if (!SCHEMA_PATTERN.test(schema)) throw new Error(`schema "${schema}" in the state URL must be a lowercase identifier: a-z, 0-9 and _, not starting with a digit, at most 63 characters`)
  const pool = parsed.searchParams.get('pool')
  const poolSize = pool === null ? DEFAULT_POOL_SIZE : Number(pool)
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000) throw new Error(`pool in the state URL must be an integer from 1 to 1000, got "${pool}"`)
  parsed.searchParams.delete('schema')
  parsed.searchParams.delete('pool')
  return { connectionString: parsed.toString(), schema, poolSize }
}

/** The URL without its password, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(unparseable URL)'
  }
}
