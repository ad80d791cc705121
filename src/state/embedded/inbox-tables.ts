import type { Database, RootDatabase } from 'lmdb'
import type { InboxMessage, InboxTables } from '../state-store.ts'

type Key = (string | number)[]

/** Under this key of the positions database: the last message seq given out. */
const SEQ_KEY = 'seq'

/** Expired messages removed per write transaction: a long sweep must not hold up the engine's checkpoints. */
const EXPIRE_BATCH = 10_000

/**
 * Players' inboxes in LMDB (docs/streams.md, "Player notifications"): not per namespace, like rule
 * sets. Messages are keyed by [tenant, userId, seq], so a player's inbox is one range in log order;
 * seq is global and grows with every message taken in.
 */
export class EmbeddedInboxTables implements InboxTables {
  constructor(
    private readonly root: RootDatabase,
    /** [tenant, userId, seq] → the message. */
    private readonly messages: Database<InboxMessage, Key>,
    /** [tenant, userId, id] → seq: finds a message by id (delivery, duplicates) without scanning the inbox. */
    private readonly ids: Database<number, Key>,
    /** [storedAt, seq] → [tenant, userId, id]: expiry reads only the expired messages. */
    private readonly expiry: Database<Key, Key>,
    /**
     * partition → next offset, and the last seq under SEQ_KEY: one named database fewer of the
     * LMDB_MAX_DBS the environment (shared with the players adapter) may hold.
     */
    private readonly positions: Database<number, number | string>,
  ) {}

  static open(root: RootDatabase): EmbeddedInboxTables {
    return new EmbeddedInboxTables(
      root,
      root.openDB<InboxMessage, Key>('inbox', {}),
      root.openDB<number, Key>('inbox_ids', {}),
      root.openDB<Key, Key>('inbox_expiry', {}),
      root.openDB<number, number | string>('inbox_positions', {}),
    )
  }

  async position(partition: number): Promise<number> {
    return this.positions.get(partition) ?? 0
  }

  async take(partition: number, from: number, to: number, messages: readonly InboxMessage[], maxPerPlayer: number): Promise<number | null> {
    // The check, the writes and the move in one write transaction: LMDB runs them one at a time,
    // across threads too, so of two takes from the same position only the first finds it.
    return this.root.transaction(() => {
      if ((this.positions.get(partition) ?? 0) !== from) return null
      // seq is stored and taken in the transaction, not kept in memory: the API and engine threads
      // open the same environment, and a reopened store carries on after the last one.
      let seq = this.positions.get(SEQ_KEY) ?? 0
      const players = new Map<string, [string, string]>()
      // Every player of the range is capped, as the Postgres adapter does, stored anew or not.
      for (const m of messages) {
        players.set(JSON.stringify([m.tenant, m.user_id]), [m.tenant, m.user_id])
        if (this.ids.get([m.tenant, m.user_id, m.id]) !== undefined) continue
        seq++
        this.store(seq, stored(m))
      }
      void this.positions.put(SEQ_KEY, seq)
      let dropped = 0
      for (const [tenant, userId] of players.values()) dropped += this.cap(tenant, userId, maxPerPlayer)
      void this.positions.put(partition, to)
      return dropped
    })
  }

  async undelivered(tenant: string, userId: string, limit: number): Promise<InboxMessage[]> {
    const out: InboxMessage[] = []
    for (const { value } of this.messages.getRange({ ...playerRange(tenant, userId), limit })) out.push(value)
    return out
  }

  async markDelivered(tenant: string, userId: string, ids: readonly string[]): Promise<number> {
    return this.root.transaction(() => {
      let removed = 0
      for (const id of ids) {
        const seq = this.ids.get([tenant, userId, id])
        const message = seq === undefined ? undefined : this.messages.get([tenant, userId, seq])
        if (seq === undefined || message === undefined) continue
        this.remove(seq, message)
        removed++
      }
      return removed
    })
  }

  async expire(before: number): Promise<number> {
    let removed = 0
    for (;;) {
      const [read, batch] = await this.root.transaction(() => {
        // Read before removing: the range is not walked while it changes underneath.
        const expired = [...this.expiry.getRange({ end: [before], limit: EXPIRE_BATCH })]
        let n = 0
        for (const { key, value } of expired) {
          const seq = key[1] as number
          const message = this.messages.get([value[0] as string, value[1] as string, seq])
          if (message === undefined) {
            // Never expected (the three entries are written and removed together), but it must not stay to be read by every sweep.
            void this.expiry.remove(key)
            continue
          }
          this.remove(seq, message)
          n++
        }
        return [expired.length, n] as const
      })
      removed += batch
      if (read < EXPIRE_BATCH) return removed
    }
  }

  async erase(tenant: string, userIds: readonly string[]): Promise<number> {
    return this.root.transaction(() => {
      let removed = 0
      for (const userId of userIds) {
        const held = [...this.messages.getRange(playerRange(tenant, userId))]
        for (const { key, value } of held) this.remove(key[2] as number, value)
        removed += held.length
      }
      return removed
    })
  }

  async count(): Promise<number> {
    // LMDB keeps each database's entry count (mdb_stat's ms_entries): no scan. lmdb's typings
    // declare the stats as {}.
    return (this.messages.getStats() as { entryCount: number }).entryCount
  }

  /** Inside a write transaction: stores the message under seq, with its id and expiry entries. */
  private store(seq: number, m: InboxMessage): void {
    void this.messages.put([m.tenant, m.user_id, seq], m)
    void this.ids.put([m.tenant, m.user_id, m.id], seq)
    void this.expiry.put([m.storedAt, seq], [m.tenant, m.user_id, m.id])
  }

  /** Inside a write transaction: removes the message under seq, with its id and expiry entries. */
  private remove(seq: number, m: InboxMessage): void {
    void this.messages.remove([m.tenant, m.user_id, seq])
    void this.ids.remove([m.tenant, m.user_id, m.id])
    void this.expiry.remove([m.storedAt, seq])
  }

  /** Inside a write transaction: removes the player's oldest messages beyond `max`; returns how many. */
  private cap(tenant: string, userId: string, max: number): number {
    const over = this.messages.getKeysCount(playerRange(tenant, userId)) - Math.max(max, 0)
    if (over <= 0) return 0
    const oldest = [...this.messages.getRange({ ...playerRange(tenant, userId), limit: over })]
    for (const { key, value } of oldest) this.remove(key[2] as number, value)
    return oldest.length
  }
}

/** Only the message's own fields, as the Postgres adapter's columns keep them. */
function stored(m: InboxMessage): InboxMessage {
  return { id: m.id, tenant: m.tenant, user_id: m.user_id, trigger: m.trigger, message: m.message, event: m.event, event_id: m.event_id, at: m.at, storedAt: m.storedAt }
}

/** Every message of one player, oldest first. */
function playerRange(tenant: string, userId: string): { start: Key; end: Key } {
  return { start: [tenant, userId], end: [tenant, userId, Number.MAX_SAFE_INTEGER] }
}
