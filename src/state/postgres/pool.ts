import pg from 'pg'
import type { Logger } from '../../logger.ts'
import { runDdl } from './schema.ts'
import { parsePostgresUrl, redactUrl } from './url.ts'

// A transaction left open by a paused or hung process (a fenced checkpoint holds its lease row, a
// player update its row lock) is ended by the server after this long, so whoever waits for that row
// waits for a frozen owner at most this much.
const IDLE_IN_TRANSACTION_MS = 10_000

/**
 * A pool on the URL's database (its pool size, its schema) with the settings every tagstream store
 * uses, and the store's tables created; the pool is ended again if they cannot be. `what` names the
 * store in the error ("state store", "player store").
 */
export async function openStorePool(url: string, what: string, logger: Logger, ddl: (schema: string) => readonly string[]): Promise<{ pool: pg.Pool; schema: string }> {
  const { connectionString, schema, poolSize } = parsePostgresUrl(url)
  const pool = new pg.Pool({ connectionString, max: poolSize, idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS })
  // An idle connection dropped by the server (restart, idle timeout) is reported here; without a
  // listener it would crash the process. The next query simply gets a fresh connection.
  // The message and code only: pg attaches its whole client to the error (about 4 KB a line, one per
  // idle connection, every time the server restarts).
  pool.on('error', (err: Error & { code?: string }) => logger.warn({ err: { message: err.message, code: err.code }, url: redactUrl(url) }, 'idle Postgres connection lost'))
  try {
    await runDdl(pool, schema, ddl(schema))
  } catch (err) {
    await pool.end()
    throw new Error(`cannot open the Postgres ${what} at ${redactUrl(url)}: ${(err as Error).message}`, { cause: err })
  }
  return { pool, schema }
}
