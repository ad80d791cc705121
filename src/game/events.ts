import type { IncomingHttpHeaders } from 'node:http'
import { formatEventError, validateEvent, type EventsFormat, type JsonValue, type TrackedEvent } from '../events/index.ts'
import { appendEvents } from '../ingest/append-events.ts'
import { Deduper } from '../ingest/dedupe.ts'
import { uuid7 } from '../events/uuid7.ts'
import type { EventLog } from '../log/event-log.ts'
import type { OutboxEvent, PlayerRecord } from '../players/player-store.ts'

/** Event names the game API writes; see docs/game.md for their properties and warehouse tables. */
export const GAME_EVENTS = {
  created: 'player_created',
  login: 'login',
  // One name for every item kind (the kind is a property): one warehouse table answers "items by
  // type and status", and approved purchases feed the engine's total_purchases trait.
  purchase: 'purchase',
  joinGuild: 'join_guild',
  joinTeam: 'join_team',
} as const

/** Seed 002 reads the internet provider off the Host header; seed 003 keeps Accept and User-Agent. */
export interface RequestInfo {
  host?: string
  user_agent?: string
  accept?: string
}

// Headers may be up to 16 KiB; an event string must stay well under the envelope's 8 KiB limit.
const MAX_HEADER = 1024

export function requestInfo(headers: IncomingHttpHeaders): RequestInfo {
  const info: RequestInfo = {}
  const put = (key: keyof RequestInfo, v: string | string[] | undefined) => {
    const s = Array.isArray(v) ? v.join(', ') : v
    if (s !== undefined && s.length > 0) info[key] = s.slice(0, MAX_HEADER)
  }
  put('host', headers.host)
  put('user_agent', headers['user-agent'])
  put('accept', headers.accept)
  return info
}

/** The player's state after the action, flattened as seed 003's `buys` and `social` tables have it. */
export function playerState(p: PlayerRecord): Record<string, JsonValue> {
  return {
    player_name: p.name,
    player_created: new Date(p.created).toISOString(),
    player_wealth: p.wealth,
    player_health: p.health,
    player_num_items: p.inventory.length,
    player_num_affiliations: p.affiliations.length,
    // Events of concurrent actions may reach the log out of order; the version orders them.
    player_version: p.version,
  }
}

/** The raw event, as a client would send it to the collector. Never given the password or its hash. */
export function gameEvent(name: string, player: PlayerRecord, action: Record<string, JsonValue>, info: RequestInfo, at: number): Record<string, unknown> {
  return { event: name, user_id: player.id, ts: at, ...info, ...action, ...playerState(player) }
}

export interface EventSink {
  log: EventLog
  partitions: number
  /** How the events are stored (ServerConfig.eventsFormat); default DEFAULT_EVENTS_FORMAT. */
  eventsFormat?: EventsFormat
  /**
   * The collector's event_id horizon (src/ingest/dedupe.ts): an action's event is claimed in it while
   * being appended, so the outbox relay never appends it a second time (./outbox-relay.ts).
   */
  deduper: Deduper
  /** Called once the event is durable (metrics). */
  onAppended?: (event: TrackedEvent) => void
}

/**
 * The validated event of an action. It carries an event_id of its own, made here, so that the
 * relay can tell from the log (the restored dedupe horizon) whether it was already appended.
 */
export function actionEvent(tenant: string, raw: Record<string, unknown>, receivedAt: number = Date.now()): TrackedEvent {
  const v = validateEvent({ ...raw, event_id: uuid7(receivedAt) }, { tenant, receivedAt })
  // Every field is bounded by the parsers, so a failure here is a bug in this module.
  if (!v.ok) throw new Error(`game event failed validation: ${formatEventError(v.error)}`)
  return v.event
}

/** The outbox row of an event: stored in the transaction of the change the event records. */
export function outboxOf(event: TrackedEvent): OutboxEvent {
  return { tenant: event.tenant, id: event.event_id, at: event.received_at, event: JSON.stringify(event) }
}

/**
 * Appends action events and resolves once they are durable, claiming their ids in the dedupe horizon
 * meanwhile. An event whose id is already claimed (the relay has it in hand, or it is in the log) is
 * not appended again. Rejects, with the claims released, when the log refuses.
 */
export async function appendActionEvents(sink: EventSink, events: readonly TrackedEvent[]): Promise<void> {
  const now = Date.now()
  const claimed: string[] = []
  const fresh: TrackedEvent[] = []
  for (const e of events) {
    const key = Deduper.key(e.tenant, e.event_id)
    if (!sink.deduper.claim(key, now)) continue
    claimed.push(key)
    fresh.push(e)
  }
  if (fresh.length === 0) return
  try {
    await appendEvents(sink.log, fresh, sink.partitions, sink.eventsFormat)
  } catch (err) {
    sink.deduper.release(claimed)
    throw err
  }
  sink.deduper.commit(claimed, Date.now())
  for (const e of fresh) sink.onAppended?.(e)
}
