import type pg from 'pg'
import { createTables } from '../../state/postgres/schema.ts'

/**
 * The group's membership table, beside the state store's tables (partition_leases among them, which
 * the store's fenced checkpoint reads). Created under the store's DDL lock, so workers and servers
 * starting together on a fresh schema do not collide in the catalog.
 */
export async function createWorkerTables(pool: pg.Pool, schema: string): Promise<void> {
  await createTables(pool, schema)
  await pool.query(`CREATE TABLE IF NOT EXISTS ${schema}.workers (
      namespace text NOT NULL,
      id text NOT NULL,
      heartbeat timestamptz NOT NULL,
      expires timestamptz NOT NULL,
      PRIMARY KEY (namespace, id))`)
}
