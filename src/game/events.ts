import type { IncomingHttpHeaders } from 'node:http'
import { formatEventError, validateEvent, type JsonValue, type TrackedEvent } from '../events/index.ts'
import { appendEvents } from '../ingest/append-events.ts'
import type { EventLog } from '../log/event-log.ts'
import type { PlayerRecord } from '../state/state-store.ts'

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
  /** Called once the event is durable (metrics). */
  onAppended?: (event: TrackedEvent) => void
}

/** Validates with the player's tenant and appends; resolves once the event is durable in the log. */
export async function emitGameEvent(sink: EventSink, tenant: string, raw: Record<string, unknown>, receivedAt: number = Date.now()): Promise<TrackedEvent> {
  const v = validateEvent(raw, { tenant, receivedAt })
  // Every field is bounded by the parsers, so a failure here is a bug in this module.
  if (!v.ok) throw new Error(`game event failed validation: ${formatEventError(v.error)}`)
  await appendEvents(sink.log, [v.event], sink.partitions)
  sink.onAppended?.(v.event)
  return v.event
}
