import type pg from 'pg'
import { createLogger, type Logger } from '../../logger.ts'
import { openStorePool } from '../../state/postgres/pool.ts'
import { inTransaction } from '../../state/postgres/transaction.ts'
import type { OutboxEvent, PlayerRecord, PlayerStore, PlayerUpdate } from '../player-store.ts'
import { playerTables } from './schema.ts'

/**
 * Players in `<schema>.players`: the record as json, with tenant, id and name as columns so the
 * primary key and a unique constraint enforce "one id, one name per tenant" in the writing statement.
 * Like the embedded store, the name column keeps the name the player was created with.
 */
export class PostgresPlayerStore implements PlayerStore {
  private readonly sql: { byId: string; byName: string; insert: string; nameTaken: string; lock: string; update: string; outbox: string; pending: string; remove: string }

  /**
   * Opens its own small pool on the state store's URL (same database and schema, the URL's pool
   * size) and creates the game's tables if missing.
   */
  static async open(url: string, options: { logger?: Logger } = {}): Promise<PostgresPlayerStore> {
    const { pool, schema } = await openStorePool(url, 'player store', options.logger ?? createLogger('players'), playerTables)
    return new PostgresPlayerStore(pool, schema)
  }

  private constructor(
    private readonly pool: pg.Pool,
    schema: string,
  ) {
    const t = `${schema}.players`
    this.sql = {
      byId: `SELECT record FROM ${t} WHERE tenant = $1 AND id = $2`,
      byName: `SELECT record FROM ${t} WHERE tenant = $1 AND name = $2`,
      insert: `INSERT INTO ${t} (tenant, id, name, record) VALUES ($1, $2, $3, $4::json) ON CONFLICT DO NOTHING`,
      nameTaken: `SELECT 1 FROM ${t} WHERE tenant = $1 AND name = $2`,
      lock: `SELECT record FROM ${t} WHERE tenant = $1 AND id = $2 FOR UPDATE`,
      update: `UPDATE ${t} SET record = $3::json WHERE tenant = $1 AND id = $2`,
      outbox: `INSERT INTO ${schema}.game_outbox (tenant, id, at, event) VALUES ($1, $2, $3, $4)`,
      pending: `SELECT tenant, id, at, event FROM ${schema}.game_outbox WHERE at < $2 ORDER BY at, tenant, id LIMIT $1`,
      remove: `DELETE FROM ${schema}.game_outbox WHERE (tenant, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    }
  }

  async getPlayer(tenant: string, id: string): Promise<PlayerRecord | null> {
    return this.one(this.sql.byId, [tenant, id])
  }

  async getPlayerByName(tenant: string, name: string): Promise<PlayerRecord | null> {
    return this.one(this.sql.byName, [tenant, name])
  }

  async createPlayer(player: PlayerRecord, outbox?: OutboxEvent): Promise<'created' | 'duplicate_name' | 'duplicate_id'> {
    // ON CONFLICT DO NOTHING waits for a concurrent insert of the same id or name to commit or roll
    // back, so exactly one of concurrent registrations wins. Which constraint refused is asked
    // afterwards, in a new snapshot that sees the winner; a taken name is reported first, as the
    // embedded store does.
    const record = JSON.stringify(player)
    const inserted = outbox
      ? await inTransaction(this.pool, async (client) => {
          const r = await client.query(this.sql.insert, [player.tenant, player.id, player.name, record])
          if (r.rowCount === 1) await this.putOutbox(client, outbox)
          return r
        })
      : await this.pool.query(this.sql.insert, [player.tenant, player.id, player.name, record])
    if (inserted.rowCount === 1) return 'created'
    const named = await this.pool.query(this.sql.nameTaken, [player.tenant, player.name])
    return named.rowCount === 0 ? 'duplicate_id' : 'duplicate_name'
  }

  async updatePlayer<T>(tenant: string, id: string, update: (current: PlayerRecord) => PlayerUpdate<T>): Promise<T | null> {
    // FOR UPDATE under READ COMMITTED queues concurrent updates of one player on its row lock, each
    // reading what the previous one committed. No serialization failures can happen at this
    // isolation level, so there is nothing to retry.
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ record: PlayerRecord }>(this.sql.lock, [tenant, id])
      const current = rows[0]?.record
      if (current === undefined) return null
      const decision = update(current)
      if ('refuse' in decision) return decision.refuse
      await client.query(this.sql.update, [tenant, id, JSON.stringify({ ...decision.write, version: current.version + 1 })])
      if (decision.outbox) await this.putOutbox(client, decision.outbox)
      return decision.result
    })
  }

  async pendingOutbox(limit: number, before: number): Promise<OutboxEvent[]> {
    const { rows } = await this.pool.query<OutboxEvent>(this.sql.pending, [limit, before])
    return rows.map((r) => ({ tenant: r.tenant, id: r.id, at: Number(r.at), event: r.event }))
  }

  async removeOutbox(events: ReadonlyArray<Pick<OutboxEvent, 'tenant' | 'id' | 'at'>>): Promise<void> {
    if (events.length === 0) return
    await this.pool.query(this.sql.remove, [events.map((e) => e.tenant), events.map((e) => e.id)])
  }

  private async putOutbox(client: pg.PoolClient, e: OutboxEvent): Promise<void> {
    await client.query(this.sql.outbox, [e.tenant, e.id, e.at, e.event])
  }

  private async one(sql: string, params: string[]): Promise<PlayerRecord | null> {
    const { rows } = await this.pool.query<{ record: PlayerRecord }>(sql, params)
    return rows[0]?.record ?? null
  }

  async close(): Promise<void> {
    await this.pool.end()
  }
}
