import type pg from 'pg'
import type { PlayerRecord, PlayerStore, PlayerUpdate } from '../state-store.ts'
import { inTransaction } from './transaction.ts'

/**
 * Players in `<schema>.players`: the record as json, with tenant, id and name as columns so the
 * primary key and a unique constraint enforce "one id, one name per tenant" in the writing statement.
 * Like the embedded store, the name column keeps the name the player was created with.
 */
export class PostgresPlayerStore implements PlayerStore {
  private readonly sql: { byId: string; byName: string; insert: string; nameTaken: string; lock: string; update: string }

  constructor(private readonly pool: pg.Pool, schema: string) {
    const t = `${schema}.players`
    this.sql = {
      byId: `SELECT record FROM ${t} WHERE tenant = $1 AND id = $2`,
      byName: `SELECT record FROM ${t} WHERE tenant = $1 AND name = $2`,
      insert: `INSERT INTO ${t} (tenant, id, name, record) VALUES ($1, $2, $3, $4::json) ON CONFLICT DO NOTHING`,
      nameTaken: `SELECT 1 FROM ${t} WHERE tenant = $1 AND name = $2`,
      lock: `SELECT record FROM ${t} WHERE tenant = $1 AND id = $2 FOR UPDATE`,
      update: `UPDATE ${t} SET record = $3::json WHERE tenant = $1 AND id = $2`,
    }
  }

  async getPlayer(tenant: string, id: string): Promise<PlayerRecord | null> {
    return this.one(this.sql.byId, [tenant, id])
  }

  async getPlayerByName(tenant: string, name: string): Promise<PlayerRecord | null> {
    return this.one(this.sql.byName, [tenant, name])
  }

  async createPlayer(player: PlayerRecord): Promise<'created' | 'duplicate_name' | 'duplicate_id'> {
    // ON CONFLICT DO NOTHING waits for a concurrent insert of the same id or name to commit or roll
    // back, so exactly one of concurrent registrations wins. Which constraint refused is asked
    // afterwards, in a new snapshot that sees the winner; a taken name is reported first, as the
    // embedded store does.
    const inserted = await this.pool.query(this.sql.insert, [player.tenant, player.id, player.name, JSON.stringify(player)])
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
      return decision.result
    })
  }

  private async one(sql: string, params: string[]): Promise<PlayerRecord | null> {
    const { rows } = await this.pool.query<{ record: PlayerRecord }>(sql, params)
    return rows[0]?.record ?? null
  }
}
