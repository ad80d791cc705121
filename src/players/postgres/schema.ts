/**
 * The game's tables, created on open beside the state store's in the same schema (the URL's
 * `?schema=`). Players are json (not jsonb) so they read back with their key order and numbers
 * exactly as written.
 */
export function playerTables(schema: string): string[] {
  return [
    `CREATE SCHEMA IF NOT EXISTS ${schema}`,
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
  ]
}
