import pg from 'pg'
import { createLogger, type Logger } from '../../logger.ts'
import type { PartitionCheckpoint, PlayerRecord, PlayerStore, PlayerUpdate, StateStore, UserRecord } from '../state-store.ts'
import { PostgresPlayerStore } from './player-store.ts'
import { createTables } from './schema.ts'
import { inTransaction } from './transaction.ts'
import { parsePostgresUrl, redactUrl } from './url.ts'

export interface PostgresStoreOptions {
  /** Users per query while loadUsers pages through a partition. Default 2,000. */
  pageSize?: number
  logger?: Logger
}

/** Keys and states as bytea arrays, split into writes and deletes; a key repeated in one call keeps its last state. */
function splitUsers(users: readonly UserRecord[]): { keys: Buffer[]; states: Buffer[]; deleted: Buffer[] } {
  const last = new Map<string, Uint8Array | null>()
  for (const u of users) last.set(u.key, u.state)
  const keys: Buffer[] = []
  const states: Buffer[] = []
  const deleted: Buffer[] = []
  for (const [key, state] of last) {
    if (state === null) deleted.push(Buffer.from(key))
    else {
      keys.push(Buffer.from(key))
      states.push(Buffer.from(state.buffer, state.byteOffset, state.byteLength))
    }
  }
  return { keys, states, deleted }
}

/**
 * Postgres: checkpoints, engine users and players in one schema. A checkpoint (its users upserted
 * and deleted in bulk, then the checkpoint row) is one SQL statement, hence one transaction and one
 * round trip however many users it carries.
 */
export class PostgresStateStore implements StateStore {
  private readonly players: PlayerStore
  private readonly sql: { checkpoint: string; firstPage: string; nextPage: string; user: string; save: string; resetUsers: string; resetCheckpoints: string }

  private constructor(
    private readonly pool: pg.Pool,
    schema: string,
    private readonly pageSize: number,
  ) {
    this.players = new PostgresPlayerStore(pool, schema)
    const users = `${schema}.users`
    const checkpoints = `${schema}.checkpoints`
    this.sql = {
      checkpoint: `SELECT checkpoint FROM ${checkpoints} WHERE namespace = $1 AND partition = $2`,
      firstPage: `SELECT key, state FROM ${users} WHERE namespace = $1 AND partition = $2 ORDER BY key LIMIT $3`,
      nextPage: `SELECT key, state FROM ${users} WHERE namespace = $1 AND partition = $2 AND key > $4 ORDER BY key LIMIT $3`,
      user: `SELECT state FROM ${users} WHERE namespace = $1 AND partition = $2 AND key = $3`,
      // Data-modifying CTEs run in the statement's single transaction; the upserted and deleted keys
      // are disjoint (splitUsers), so no row is touched twice.
      save: `WITH written AS (
          INSERT INTO ${users} (namespace, partition, key, state)
          SELECT $1::text, $2::integer, u.key, u.state FROM unnest($3::bytea[], $4::bytea[]) AS u(key, state)
          ON CONFLICT (namespace, partition, key) DO UPDATE SET state = excluded.state
        ), deleted AS (
          DELETE FROM ${users} WHERE namespace = $1 AND partition = $2 AND key = ANY($5::bytea[])
        )
        INSERT INTO ${checkpoints} (namespace, partition, checkpoint) VALUES ($1, $2, $6::json)
        ON CONFLICT (namespace, partition) DO UPDATE SET checkpoint = excluded.checkpoint`,
      resetUsers: `DELETE FROM ${users} WHERE namespace = $1`,
      resetCheckpoints: `DELETE FROM ${checkpoints} WHERE namespace = $1`,
    }
  }

  /** Connects, creates the schema and tables if missing. `url`: postgres://host:port/db?schema=name&pool=n. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStateStore> {
    const { connectionString, schema, poolSize } = parsePostgresUrl(url)
    const logger = options.logger ?? createLogger('state')
    const pool = new pg.Pool({ connectionString, max: poolSize })
    // An idle connection dropped by the server (restart, idle timeout) is reported here; without a
    // listener it would crash the process. The next query simply gets a fresh connection.
    pool.on('error', (err) => logger.warn({ err, url: redactUrl(url) }, 'idle Postgres connection lost'))
    try {
      await createTables(pool, schema)
    } catch (err) {
      await pool.end()
      throw new Error(`cannot open the Postgres state store at ${redactUrl(url)}: ${(err as Error).message}`, { cause: err })
    }
    return new PostgresStateStore(pool, schema, options.pageSize ?? 2_000)
  }

  async loadCheckpoint(namespace: string, partition: number): Promise<PartitionCheckpoint | null> {
    const { rows } = await this.pool.query<{ checkpoint: PartitionCheckpoint }>(this.sql.checkpoint, [namespace, partition])
    return rows[0]?.checkpoint ?? null
  }

  /**
   * Keyset pages in key (byte) order: each page is an index range scan from the last key seen, so
   * a partition of millions of users streams without OFFSET's quadratic cost or a held connection.
   * The partition's single owner is its only writer, so pages agree with each other.
   */
  async *loadUsers(namespace: string, partition: number): AsyncIterable<UserRecord> {
    let after: Buffer | null = null
    for (;;) {
      const page: pg.QueryResult<{ key: Buffer; state: Buffer }> =
        after === null
          ? await this.pool.query(this.sql.firstPage, [namespace, partition, this.pageSize])
          : await this.pool.query(this.sql.nextPage, [namespace, partition, this.pageSize, after])
      for (const row of page.rows) yield { key: row.key.toString('utf8'), state: row.state }
      const last = page.rows[page.rows.length - 1]
      if (last === undefined || page.rows.length < this.pageSize) return
      after = last.key
    }
  }

  async getUser(namespace: string, partition: number, key: string): Promise<Uint8Array | null> {
    const { rows } = await this.pool.query<{ state: Buffer }>(this.sql.user, [namespace, partition, Buffer.from(key)])
    return rows[0]?.state ?? null
  }

  async saveCheckpoint(namespace: string, partition: number, checkpoint: PartitionCheckpoint, users: readonly UserRecord[]): Promise<void> {
    const { keys, states, deleted } = splitUsers(users)
    await this.pool.query(this.sql.save, [namespace, partition, keys, states, deleted, JSON.stringify(checkpoint)])
  }

  async reset(namespace: string): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await client.query(this.sql.resetUsers, [namespace])
      await client.query(this.sql.resetCheckpoints, [namespace])
    })
  }

  getPlayer(tenant: string, id: string): Promise<PlayerRecord | null> {
    return this.players.getPlayer(tenant, id)
  }

  getPlayerByName(tenant: string, name: string): Promise<PlayerRecord | null> {
    return this.players.getPlayerByName(tenant, name)
  }

  createPlayer(player: PlayerRecord): Promise<'created' | 'duplicate_name' | 'duplicate_id'> {
    return this.players.createPlayer(player)
  }

  updatePlayer<T>(tenant: string, id: string, update: (current: PlayerRecord) => PlayerUpdate<T>): Promise<T | null> {
    return this.players.updatePlayer(tenant, id, update)
  }

  async close(): Promise<void> {
    await this.pool.end()
  }
}
