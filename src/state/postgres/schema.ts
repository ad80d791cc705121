import type pg from 'pg'
import { inTransaction } from './transaction.ts'

/**
 * The tables, created on open. Keys are bytea, not text: user ids are any string the collector
 * accepted, and text cannot hold a NUL; one such id would otherwise fail every later checkpoint of
 * its partition. bytea also sorts by bytes, the order the embedded store iterates in.
 * Checkpoints and players are json (not jsonb) so they read back with their key order and numbers
 * exactly as written.
 */
function ddl(schema: string): string[] {
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
    `CREATE TABLE IF NOT EXISTS ${schema}.players (
      tenant text NOT NULL,
      id text NOT NULL,
      name text NOT NULL,
      record json NOT NULL,
      PRIMARY KEY (tenant, id),
      UNIQUE (tenant, name))`,
    // The game's outbox: an event stored in the transaction of the player change it records, until
    // the relay has appended it to the log (src/game/outbox-relay.ts). at = when it was decided.
    `CREATE TABLE IF NOT EXISTS ${schema}.game_outbox (
      tenant text NOT NULL,
      id text NOT NULL,
      at double precision NOT NULL,
      event text NOT NULL,
      PRIMARY KEY (tenant, id))`,
    `CREATE INDEX IF NOT EXISTS game_outbox_at ON ${schema}.game_outbox (at)`,
    // Who may checkpoint a partition (src/worker/postgres/coordinator.ts writes it; a fenced
    // saveCheckpoint checks it). owner is null once released; epoch only ever grows. A lease lives
    // as long as its owner's heartbeat row in the coordinator's workers table.
    `CREATE TABLE IF NOT EXISTS ${schema}.partition_leases (
      namespace text NOT NULL,
      partition integer NOT NULL,
      owner text,
      epoch integer NOT NULL,
      PRIMARY KEY (namespace, partition))`,
  ]
}

/**
 * Creates the schema and tables if missing. The engine thread and the API open the store at about
 * the same time; concurrent CREATE … IF NOT EXISTS can still collide in the catalog, so the DDL runs
 * under a transaction-scoped advisory lock named after the schema.
 */
export async function createTables(pool: pg.Pool, schema: string): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tagstream schema ${schema}`])
    for (const statement of ddl(schema)) await client.query(statement)
  })
}
