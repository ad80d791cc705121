import type pg from 'pg'
import type { InboxMessage, InboxTables } from '../state-store.ts'
import { inTransaction } from './transaction.ts'

/** The tables of players' inboxes (docs/streams.md, "Player notifications"), created with the others (./schema.ts). */
export function inboxTables(schema: string): string[] {
  return [
    // seq is log order: take inserts a range's messages in offset order. user_id, id (which holds
    // the event id), event_id and message (which holds event properties) are bytea, as the users
    // table's keys are, since they hold whatever string the collector accepted and text cannot hold a NUL; one such
    // message would otherwise fail every later take of its partition. tenant, trigger and event are
    // names the collector and the rules already validate.
    `CREATE TABLE IF NOT EXISTS ${schema}.inbox (
      seq bigserial PRIMARY KEY,
      tenant text NOT NULL,
      user_id bytea NOT NULL,
      id bytea NOT NULL,
      trigger text NOT NULL,
      message bytea NOT NULL,
      event text NOT NULL,
      event_id bytea NOT NULL,
      at bigint NOT NULL,
      stored_at bigint NOT NULL,
      UNIQUE (tenant, user_id, id))`,
    `CREATE INDEX IF NOT EXISTS inbox_by_player ON ${schema}.inbox (tenant, user_id, seq)`,
    `CREATE INDEX IF NOT EXISTS inbox_by_stored_at ON ${schema}.inbox (stored_at)`,
    // Per player-notifications partition: the next offset not yet taken in. Its row is what
    // concurrent takes of the partition lock.
    `CREATE TABLE IF NOT EXISTS ${schema}.inbox_positions (
      partition integer PRIMARY KEY,
      next bigint NOT NULL)`,
  ]
}

interface InboxRow {
  tenant: string
  user_id: Buffer
  id: Buffer
  trigger: string
  message: Buffer
  event: string
  event_id: Buffer
  /** bigint: pg returns it as a string. */
  at: string
  stored_at: string
}

const INBOX_COLUMNS = 'tenant, user_id, id, trigger, message, event, event_id, at, stored_at'

/** Expired messages deleted per statement: a long sweep must not hold locks and WAL for all of them at once. */
const EXPIRE_BATCH = 10_000

const bytes = (s: string) => Buffer.from(s, 'utf8')

/** Players' inboxes in Postgres: the state store's queries for them. */
export class PostgresInboxTables implements InboxTables {
  private readonly sql: Record<'position' | 'ensurePosition' | 'lockPosition' | 'insert' | 'cap' | 'move' | 'undelivered' | 'delivered' | 'expire' | 'erase' | 'count', string>

  constructor(
    private readonly pool: pg.Pool,
    schema: string,
  ) {
    const inbox = `${schema}.inbox`
    const positions = `${schema}.inbox_positions`
    this.sql = {
      position: `SELECT next FROM ${positions} WHERE partition = $1`,
      ensurePosition: `INSERT INTO ${positions} (partition, next) VALUES ($1, 0) ON CONFLICT (partition) DO NOTHING`,
      lockPosition: `SELECT next FROM ${positions} WHERE partition = $1 FOR UPDATE`,
      // One statement for the whole range; ORDER BY the ordinality hands out seq in log order.
      // DO NOTHING also skips a second copy of an id within the same range.
      insert: `INSERT INTO ${inbox} (${INBOX_COLUMNS})
        SELECT m.tenant, m.user_id, m.id, m.trigger, m.message, m.event, m.event_id, m.at, m.stored_at
        FROM unnest($1::text[], $2::bytea[], $3::bytea[], $4::text[], $5::bytea[], $6::text[], $7::bytea[], $8::bigint[], $9::bigint[])
          WITH ORDINALITY AS m(tenant, user_id, id, trigger, message, event, event_id, at, stored_at, n)
        ORDER BY m.n
        ON CONFLICT (tenant, user_id, id) DO NOTHING`,
      // Per player the range touched: every message but the newest $3, read newest first off the
      // (tenant, user_id, seq) index.
      cap: `DELETE FROM ${inbox} WHERE seq IN (
          SELECT old.seq FROM (SELECT DISTINCT tenant, user_id FROM unnest($1::text[], $2::bytea[]) AS p(tenant, user_id)) p
          CROSS JOIN LATERAL (SELECT i.seq FROM ${inbox} i WHERE i.tenant = p.tenant AND i.user_id = p.user_id ORDER BY i.seq DESC OFFSET $3) old)`,
      move: `UPDATE ${positions} SET next = $2 WHERE partition = $1`,
      undelivered: `SELECT ${INBOX_COLUMNS} FROM ${inbox} WHERE tenant = $1 AND user_id = $2 ORDER BY seq LIMIT $3`,
      delivered: `DELETE FROM ${inbox} WHERE tenant = $1 AND user_id = $2 AND id = ANY($3::bytea[])`,
      expire: `DELETE FROM ${inbox} WHERE seq IN (SELECT seq FROM ${inbox} WHERE stored_at < $1 LIMIT $2)`,
      erase: `DELETE FROM ${inbox} WHERE tenant = $1 AND user_id = ANY($2::bytea[])`,
      count: `SELECT count(*) AS n FROM ${inbox}`,
    }
  }

  async position(partition: number): Promise<number> {
    const { rows } = await this.pool.query<{ next: string }>(this.sql.position, [partition])
    return rows[0] ? Number(rows[0].next) : 0
  }

  async take(partition: number, from: number, to: number, messages: readonly InboxMessage[], maxPerPlayer: number): Promise<number | null> {
    return inTransaction(this.pool, async (client) => {
      // The row must exist to be locked. Of two takes creating it, the second's insert waits for the
      // first to commit and then does nothing; FOR UPDATE makes a take wait for any other holding the
      // row, then read the position it committed (READ COMMITTED reads the newest version), so
      // exactly one of two takes from the same position finds it.
      await client.query(this.sql.ensurePosition, [partition])
      const { rows } = await client.query<{ next: string }>(this.sql.lockPosition, [partition])
      if (rows[0] === undefined || Number(rows[0].next) !== from) return null
      let dropped = 0
      if (messages.length > 0) {
        const c = {
          tenant: [] as string[],
          userId: [] as Buffer[],
          id: [] as Buffer[],
          trigger: [] as string[],
          message: [] as Buffer[],
          event: [] as string[],
          eventId: [] as Buffer[],
          at: [] as number[],
          storedAt: [] as number[],
        }
        for (const m of messages) {
          c.tenant.push(m.tenant)
          c.userId.push(bytes(m.user_id))
          c.id.push(bytes(m.id))
          c.trigger.push(m.trigger)
          c.message.push(bytes(m.message))
          c.event.push(m.event)
          c.eventId.push(bytes(m.event_id))
          c.at.push(m.at)
          c.storedAt.push(m.storedAt)
        }
        await client.query(this.sql.insert, [c.tenant, c.userId, c.id, c.trigger, c.message, c.event, c.eventId, c.at, c.storedAt])
        // A statement of its own: one statement does not see the rows its own INSERT wrote.
        const capped = await client.query(this.sql.cap, [c.tenant, c.userId, Math.max(maxPerPlayer, 0)])
        dropped = capped.rowCount ?? 0
      }
      await client.query(this.sql.move, [partition, to])
      return dropped
    })
  }

  async undelivered(tenant: string, userId: string, limit: number): Promise<InboxMessage[]> {
    const { rows } = await this.pool.query<InboxRow>(this.sql.undelivered, [tenant, bytes(userId), limit])
    return rows.map((r) => ({
      id: r.id.toString('utf8'),
      tenant: r.tenant,
      user_id: r.user_id.toString('utf8'),
      trigger: r.trigger,
      message: r.message.toString('utf8'),
      event: r.event,
      event_id: r.event_id.toString('utf8'),
      at: Number(r.at),
      storedAt: Number(r.stored_at),
    }))
  }

  async markDelivered(tenant: string, userId: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0
    const r = await this.pool.query(this.sql.delivered, [tenant, bytes(userId), ids.map(bytes)])
    return r.rowCount ?? 0
  }

  async expire(before: number): Promise<number> {
    let removed = 0
    for (;;) {
      const r = await this.pool.query(this.sql.expire, [before, EXPIRE_BATCH])
      const n = r.rowCount ?? 0
      removed += n
      if (n < EXPIRE_BATCH) return removed
    }
  }

  async erase(tenant: string, userIds: readonly string[]): Promise<number> {
    if (userIds.length === 0) return 0
    const r = await this.pool.query(this.sql.erase, [tenant, userIds.map(bytes)])
    return r.rowCount ?? 0
  }

  async count(): Promise<number> {
    // A scan; the gauge is sampled rarely.
    const { rows } = await this.pool.query<{ n: string }>(this.sql.count)
    return Number(rows[0]?.n ?? 0)
  }
}
