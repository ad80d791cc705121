/*
 * The game's players (seeds 002 and 003) and their outbox: a port of their own, apart from the
 * engine's state (src/state/). The adapters keep their data where the state store's URL points
 * (`--state`): the embedded one in the same LMDB environment, the Postgres one in the same schema,
 * so a data directory or schema written before the split reads the same.
 */

/** A game player (seeds 002 and 003), kept by the game API. */
export interface PlayerRecord {
  id: string
  tenant: string
  name: string
  /** scrypt hash with its salt and parameters; never returned by the API. */
  password_hash: string
  wealth: number
  health: number
  /** Epoch ms. */
  created: number
  inventory: Array<{ kind: string; type: string; cost: number; bought_at: number }>
  affiliations: Array<{ kind: string; org: string; level: string; joined_at: number }>
  /** Incremented by every update. */
  version: number
}

/**
 * An event written in the same transaction as the player change it records: the game's outbox
 * (docs/game.md, "Player and event together"). The change and its event are stored together or not
 * at all; src/game/outbox-relay.ts appends what is still here to the log and removes it.
 */
export interface OutboxEvent {
  tenant: string
  /** The event's event_id, unique within the tenant: the row's key, and how a relay knows it was appended. */
  id: string
  /** When the transaction decided, epoch ms: the order the relay appends in. */
  at: number
  /** The event as validated (src/events/envelope.ts TrackedEvent), as JSON. */
  event: string
}

/** A decision on a player: write it (and its event, if given) or leave it as it is. */
export type PlayerUpdate<T> = { write: PlayerRecord; result: T; outbox?: OutboxEvent } | { refuse: T }

/**
 * Players, as the game API needs them. Updates are atomic read-modify-write: `update` runs on the
 * current record inside the store's transaction, so concurrent purchases never overspend.
 */
export interface PlayerStore {
  getPlayer(tenant: string, id: string): Promise<PlayerRecord | null>
  getPlayerByName(tenant: string, name: string): Promise<PlayerRecord | null>
  /**
   * Names and ids are unique per tenant; both are checked in the same transaction as the write. The
   * outbox event, if given, is written in that transaction too (and not at all when refused).
   */
  createPlayer(player: PlayerRecord, outbox?: OutboxEvent): Promise<'created' | 'duplicate_name' | 'duplicate_id'>
  /** null when the player does not exist. A write's outbox event is stored in the same transaction. */
  updatePlayer<T>(tenant: string, id: string, update: (current: PlayerRecord) => PlayerUpdate<T>): Promise<T | null>
  /** Up to `limit` outbox events decided before `before` (epoch ms), oldest first. */
  pendingOutbox(limit: number, before: number): Promise<OutboxEvent[]>
  /** Removes outbox events once their events are in the log; ones already gone are ignored. */
  removeOutbox(events: ReadonlyArray<Pick<OutboxEvent, 'tenant' | 'id' | 'at'>>): Promise<void>
  close(): Promise<void>
}
