import type pg from 'pg'
import { inTransaction } from './transaction.ts'
import { inboxTables } from './inbox-tables.ts'
import { privacyTables } from './privacy-tables.ts'

/**
 * The tables, created on open. Keys are bytea, not text: user ids are any string the collector
 * accepted, and text cannot hold a NUL; one such id would otherwise fail every later checkpoint of
 * its partition. bytea also sorts by bytes, the order the embedded store iterates in.
 * Checkpoints are json (not jsonb) so they read back with their key order and numbers exactly as
 * written. The game's tables are the players adapter's (src/players/postgres/schema.ts).
 */
export function stateTables(schema: string): string[] {
  return [
    `CREATE SCHEMA IF NOT EXISTS ${schema}`,
    `CREATE TABLE IF NOT EXISTS ${schema}.checkpoints (
      namespace text NOT NULL,
      partition integer NOT NULL,
      checkpoint json NOT NULL,
      PRIMARY KEY (namespace, partition))`,
    `CREATE TABLE IF NOT EXISTS ${schema}.users (
      namespace text NOT NULL,
      partition integer NOT NULL,
      key bytea NOT NULL,
      state bytea NOT NULL,
      PRIMARY KEY (namespace, partition, key))`,
    // Who may checkpoint a partition (src/worker/postgres/coordinator.ts writes it; a fenced
    // saveCheckpoint checks it). owner is null once released; epoch only ever grows. A lease lives
    // as long as its owner's heartbeat row in the coordinator's workers table.
    `CREATE TABLE IF NOT EXISTS ${schema}.partition_leases (
      namespace text NOT NULL,
      partition integer NOT NULL,
      owner text,
      epoch integer NOT NULL,
      PRIMARY KEY (namespace, partition))`,
    // The latest transactional output writer (Kafka producer id and epoch, src/log/event-log.ts
    // WriterToken) that checkpointed each partition: a checkpoint under an earlier token is refused.
    `CREATE TABLE IF NOT EXISTS ${schema}.checkpoint_writers (
      namespace text NOT NULL,
      partition integer NOT NULL,
      producer_id bigint NOT NULL,
      epoch integer NOT NULL,
      PRIMARY KEY (namespace, partition))`,
    // Every version of each tenant's own rule set (docs/tenancy.md): checkpoints name versions.
    `CREATE TABLE IF NOT EXISTS ${schema}.rule_sets (
      tenant text NOT NULL,
      version integer NOT NULL,
      text text NOT NULL,
      changed_by text NOT NULL,
      changed_at bigint NOT NULL,
      PRIMARY KEY (tenant, version))`,
    ...privacyTables(schema),
    ...inboxTables(schema),
  ]
}

/**
 * Creates the schema and tables if missing. The engine thread and the API open the store at about
 * the same time; concurrent CREATE … IF NOT EXISTS can still collide in the catalog, so the DDL runs
 * under a transaction-scoped advisory lock named after the schema.
 */
/** Runs DDL statements under the schema's advisory lock (shared with the players adapter's tables). */
export async function runDdl(pool: pg.Pool, schema: string, statements: readonly string[]): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tagstream schema ${schema}`])
    for (const statement of statements) await client.query(statement)
  })
}
