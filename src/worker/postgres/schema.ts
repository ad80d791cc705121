import type pg from 'pg'
import { createTables } from '../../state/postgres/schema.ts'
import { inTransaction } from '../../state/postgres/transaction.ts'

/**
 * The group's membership table, beside the state store's tables (partition_leases among them, which
 * the store's fenced checkpoint reads). Created under the store's DDL lock: workers starting together
 * on a fresh schema would otherwise collide in the catalog even with IF NOT EXISTS.
 */
export async function createWorkerTables(pool: pg.Pool, schema: string): Promise<void> {
  await createTables(pool, schema)
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tagstream schema ${schema}`])
    await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.workers (
      namespace text NOT NULL,
      id text NOT NULL,
      heartbeat timestamptz NOT NULL,
      expires timestamptz NOT NULL,
      PRIMARY KEY (namespace, id))`)
  })
}
