import type { IncomingHttpHeaders } from 'node:http'
import type { JsonValue, TrackedEvent } from '../events/index.ts'
import { actionEvent, appendActionEvents, GAME_EVENTS, requestInfo, type EventSink } from './events.ts'
import { KIND_PATTERN, listPrice } from './prices.ts'
import { GameError } from './errors.ts'

/*
 * Seed 002's calls name no player: `ab -H 'Host: user46.earthlink.com' …/purchase/shield`. Its events
 * were told apart by the Host header alone, so here such a call is an event of an anonymous
 * visitor whose id is the Host header (`visitor:` and the host, lower-cased, port removed): every
 * call from one host is one anonymous user, as the seed's analysis counted them (docs/game.md,
 * "Seed commands"). No player is created and no wealth is spent.
 */

/** The anonymous id of a call: `visitor:<host>`, or `visitor:unknown` without a Host header. */
export function visitorId(headers: IncomingHttpHeaders): string {
  const host = (headers.host ?? '')
    .trim()
    .toLowerCase()
    .replace(/:[0-9]+$/, '')
  return `visitor:${host.length > 0 ? host.slice(0, 200) : 'unknown'}`
}

/**
 * A purchase of `kind` (at its list price, when it has one) or a guild join by an anonymous visitor:
 * one event, appended and durable before this resolves. Properties as a player's action has them
 * (kind, type, cost, status, host, user agent, accept), so the seeds' reports count it.
 */
export async function visitorAction(sink: EventSink, tenant: string, headers: IncomingHttpHeaders, action: { kind: 'purchase'; item: string } | { kind: 'join_guild' }): Promise<TrackedEvent> {
  if (action.kind === 'purchase' && !KIND_PATTERN.test(action.item)) throw new GameError(400, 'invalid_kind', 'an item kind is 1 to 32 lowercase letters or _', 'item_name')
  const now = Date.now()
  const props: Record<string, JsonValue> =
    action.kind === 'purchase' ? { kind: action.item, type: action.item, cost: listPrice(action.item) ?? null, status: 'visitor_purchase' } : { kind: 'guild', status: 'visitor_join' }
  const name = action.kind === 'purchase' ? GAME_EVENTS.purchase : GAME_EVENTS.joinGuild
  const event = actionEvent(tenant, { event: name, anonymous_id: visitorId(headers), ts: now, ...requestInfo(headers), ...props }, now)
  await appendActionEvents(sink, [event])
  return event
}
