import type pg from 'pg'
import { runDdl, stateTables } from '../../state/postgres/schema.ts'

/**
 * The group's membership table, beside the state store's tables (partition_leases among them, which
 * the store's fenced checkpoint reads). Created under the store's DDL lock: workers starting together
 * on a fresh schema would otherwise collide in the catalog even with IF NOT EXISTS.
 */
export function createWorkerTables(pool: pg.Pool, schema: string): Promise<void> {
  return runDdl(pool, schema, [
    ...stateTables(schema),
    `CREATE TABLE IF NOT EXISTS ${schema}.workers (
      namespace text NOT NULL,
      id text NOT NULL,
      heartbeat timestamptz NOT NULL,
      expires timestamptz NOT NULL,
      PRIMARY KEY (namespace, id))`,
  ])
}
