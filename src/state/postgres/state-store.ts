import pg from 'pg'
import { createLogger, type Logger } from '../../logger.ts'
import { FencedError, type CheckpointFence, type PartitionCheckpoint, type RuleSetVersion, type StateStore, type UserRecord } from '../state-store.ts'
import { PostgresInboxTables } from './inbox-tables.ts'
import { PostgresPrivacyTables } from './privacy-tables.ts'
import { packUsers, type PackedUsers, type PackLimits } from './packed-users.ts'
import { openStorePool } from './pool.ts'
import { stateTables } from './schema.ts'
import { inTransaction } from './transaction.ts'

export interface PostgresStoreOptions {
  /** Users per query while loadUsers pages through a partition. Default 2,000. */
  pageSize?: number
  /** Largest slice of a checkpoint's users sent in one statement. Default 20,000 users, 64 MiB. */
  statement?: Partial<PackLimits>
  logger?: Logger
}

const RULE_SET_COLUMNS = 'tenant, version, text, changed_by, changed_at'
interface RuleSetRow {
  tenant: string
  version: number
  text: string
  changed_by: string
  /** bigint: pg returns it as a string. */
  changed_at: string
}

function ruleSet(r: RuleSetRow): RuleSetVersion {
  return { tenant: r.tenant, version: r.version, text: r.text, by: r.changed_by, at: Number(r.changed_at) }
}

const DEFAULT_STATEMENT: PackLimits = { maxUsers: 20_000, maxBytes: 64 * 1024 * 1024 }

/**
 * Postgres: checkpoints and engine users in one schema (the game's players beside them: src/players/postgres/). A checkpoint (its users upserted
 * and deleted in bulk, then the checkpoint row) is one SQL statement, hence one transaction and one
 * round trip; a checkpoint larger than one statement's limits runs its statements in one explicit
 * transaction instead.
 */
export class PostgresStateStore implements StateStore {
  private readonly sql: {
    checkpoint: string
    firstPage: string
    nextPage: string
    user: string
    save: string
    fence: string
    writer: string
    resetUsers: string
    resetCheckpoints: string
    addRuleSet: string
    ruleSet: string
    latestRuleSets: string
    ruleSetHistory: string
  }

  /** Erasure jobs and the audit trail (docs/privacy.md). */
  readonly privacy: PostgresPrivacyTables
  /** Players' inboxes (docs/streams.md, "Player notifications"). */
  readonly inbox: PostgresInboxTables

  private constructor(
    private readonly pool: pg.Pool,
    schema: string,
    private readonly pageSize: number,
    private readonly limits: PackLimits,
  ) {
    this.privacy = new PostgresPrivacyTables(pool, schema)
    this.inbox = new PostgresInboxTables(pool, schema)
    const users = `${schema}.users`
    const checkpoints = `${schema}.checkpoints`
    this.sql = {
      checkpoint: `SELECT checkpoint FROM ${checkpoints} WHERE namespace = $1 AND partition = $2`,
      firstPage: `SELECT key, state FROM ${users} WHERE namespace = $1 AND partition = $2 ORDER BY key LIMIT $3`,
      nextPage: `SELECT key, state FROM ${users} WHERE namespace = $1 AND partition = $2 AND key > $4 ORDER BY key LIMIT $3`,
      user: `SELECT state FROM ${users} WHERE namespace = $1 AND partition = $2 AND key = $3`,
      // Data-modifying CTEs run in the statement's single transaction; packUsers leaves each key
      // either written or deleted, so no row is touched twice. $3 is the packed keys and states.
      save: `WITH written AS (
          INSERT INTO ${users} (namespace, partition, key, state)
          SELECT $1::text, $2::integer, substring($3::bytea FROM u.key_at FOR u.key_length), substring($3::bytea FROM u.state_at FOR u.state_length)
          FROM unnest($4::integer[], $5::integer[], $6::integer[], $7::integer[]) AS u(key_at, key_length, state_at, state_length)
          ON CONFLICT (namespace, partition, key) DO UPDATE SET state = excluded.state
        ), deleted AS (
          DELETE FROM ${users} WHERE namespace = $1 AND partition = $2
            AND key IN (SELECT substring($3::bytea FROM d.key_at FOR d.key_length) FROM unnest($8::integer[], $9::integer[]) AS d(key_at, key_length))
        )
        INSERT INTO ${checkpoints} (namespace, partition, checkpoint) VALUES ($1, $2, $10::json)
        ON CONFLICT (namespace, partition) DO UPDATE SET checkpoint = excluded.checkpoint`,
      // FOR SHARE conflicts with the UPDATE that takes a lease over: a takeover waits for this
      // checkpoint to commit, and a checkpoint waiting on a takeover re-reads the row and finds the new epoch.
      fence: `SELECT 1 FROM ${schema}.partition_leases WHERE namespace = $1 AND partition = $2 AND owner = $3 AND epoch = $4 FOR SHARE`,
      // The upsert locks the row until the checkpoint commits: a later writer's checkpoint waits for
      // this one, and one waiting behind a later writer's finds its token and updates nothing.
      writer: `INSERT INTO ${schema}.checkpoint_writers (namespace, partition, producer_id, epoch) VALUES ($1, $2, $3, $4)
        ON CONFLICT (namespace, partition) DO UPDATE SET producer_id = excluded.producer_id, epoch = excluded.epoch
        WHERE (checkpoint_writers.producer_id, checkpoint_writers.epoch) <= (excluded.producer_id, excluded.epoch)
        RETURNING 1`,
      resetUsers: `DELETE FROM ${users} WHERE namespace = $1`,
      resetCheckpoints: `DELETE FROM ${checkpoints} WHERE namespace = $1`,
      addRuleSet: `INSERT INTO ${schema}.rule_sets (tenant, version, text, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, version) DO NOTHING`,
      ruleSet: `SELECT ${RULE_SET_COLUMNS} FROM ${schema}.rule_sets WHERE tenant = $1 AND version = $2`,
      latestRuleSets: `SELECT DISTINCT ON (tenant) ${RULE_SET_COLUMNS} FROM ${schema}.rule_sets ORDER BY tenant, version DESC`,
      ruleSetHistory: `SELECT ${RULE_SET_COLUMNS} FROM ${schema}.rule_sets WHERE tenant = $1 ORDER BY version DESC LIMIT $2`,
    }
  }

  /** Connects, creates the schema and tables if missing. `url`: postgres://host:port/db?schema=name&pool=n. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStateStore> {
    const { pool, schema } = await openStorePool(url, 'state store', options.logger ?? createLogger('state'), stateTables)
    return new PostgresStateStore(pool, schema, options.pageSize ?? 2_000, { ...DEFAULT_STATEMENT, ...options.statement })
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
        after === null ? await this.pool.query(this.sql.firstPage, [namespace, partition, this.pageSize]) : await this.pool.query(this.sql.nextPage, [namespace, partition, this.pageSize, after])
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

  async saveCheckpoint(namespace: string, partition: number, checkpoint: PartitionCheckpoint, users: readonly UserRecord[], fence?: CheckpointFence): Promise<void> {
    const slices = packUsers(users, this.limits)
    const json = JSON.stringify(checkpoint)
    const save = (client: pg.Pool | pg.PoolClient, slice: PackedUsers) =>
      // Deliberately not a named (prepared) statement: Postgres would switch it to a generic plan
      // made while the tables were still empty, and keep it for the connection's life. Measured:
      // checkpoints of 1,000 users took 2-3x as long once the partition held 100,000 users.
      client.query(this.sql.save, [namespace, partition, slice.bytes, slice.keyAt, slice.keyLength, slice.stateAt, slice.stateLength, slice.deletedAt, slice.deletedLength, json])
    if (fence) {
      await inTransaction(this.pool, async (client) => {
        const held =
          'token' in fence
            ? await client.query(this.sql.writer, [namespace, partition, fence.token.producerId, fence.token.epoch])
            : await client.query(this.sql.fence, [namespace, partition, fence.owner, fence.epoch])
        if (held.rowCount === 0) throw new FencedError(namespace, partition, fence)
        for (const slice of slices) await save(client, slice)
      })
      return
    }
    if (slices.length === 1) {
      await save(this.pool, slices[0]!)
      return
    }
    // Every slice also writes the (same) checkpoint row: simpler than a second statement, and the
    // transaction makes all of them one atomic write.
    await inTransaction(this.pool, async (client) => {
      for (const slice of slices) await save(client, slice)
    })
  }

  async addRuleSet(set: RuleSetVersion): Promise<boolean> {
    const r = await this.pool.query(this.sql.addRuleSet, [set.tenant, set.version, set.text, set.by, set.at])
    return r.rowCount === 1
  }

  async getRuleSet(tenant: string, version: number): Promise<RuleSetVersion | null> {
    const { rows } = await this.pool.query<RuleSetRow>(this.sql.ruleSet, [tenant, version])
    return rows[0] ? ruleSet(rows[0]) : null
  }

  async latestRuleSets(): Promise<RuleSetVersion[]> {
    const { rows } = await this.pool.query<RuleSetRow>(this.sql.latestRuleSets)
    return rows.map(ruleSet)
  }

  async ruleSetHistory(tenant: string, limit: number): Promise<RuleSetVersion[]> {
    const { rows } = await this.pool.query<RuleSetRow>(this.sql.ruleSetHistory, [tenant, limit])
    return rows.map(ruleSet)
  }

  async reset(namespace: string): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await client.query(this.sql.resetUsers, [namespace])
      await client.query(this.sql.resetCheckpoints, [namespace])
    })
  }

  async close(): Promise<void> {
    await this.pool.end()
  }
}
