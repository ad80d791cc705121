import type { TrackedEvent } from '../events/envelope.ts'
import { PLAYER_EMIT } from '../rules/index.ts'
import type { EventPlan } from './event-plan.ts'
import type { EngineStats, Notification, PlayerNotification, StreamedEvent } from './records.ts'
import type { RuleRuntime } from './rule-runtime.ts'
import type { UserState } from './user-state.ts'

/** Output records of applied events besides segment changes: trigger firings and stream copies. */
export interface EventOutputLists {
  notifications: Notification[]
  /** Firings of `emit: player` triggers: the `player-notifications` log. */
  players: PlayerNotification[]
  /** Copies of events for their event streams' logs, in apply order. */
  streamed: StreamedEvent[]
}

/**
 * What an applied event writes besides state (docs/streams.md): each trigger of its name whose
 * `when` holds fires a notification, and a player notification too when it emits to `player`;
 * and the event is copied to each of its event streams. All in apply order, so a replay from a
 * checkpoint writes the same records in the same order (the exactly-once skip counts on it).
 */
export function eventOutputs(out: EventOutputLists, stats: EngineStats, user: UserState, e: TrackedEvent, plan: EventPlan, rt: RuleRuntime): void {
  const triggers = plan.triggers
  if (triggers !== undefined) {
    const env = rt.env
    env.user = user
    env.props = e.properties
    for (const t of triggers) {
      if (t.test !== null && !t.test(env)) continue
      out.notifications.push({
        trigger: t.name,
        emit: t.emit,
        tenant: user.tenant,
        user_id: user.userId,
        event: e.event,
        event_id: e.event_id,
        at: e.ts,
        properties: e.properties,
        values: values(rt, t.metrics),
      })
      stats.notifications++
      if (t.emit === PLAYER_EMIT) {
        const message = t.message(e.properties)
        out.players.push({ id: `${e.event_id}:${t.name}`, tenant: user.tenant, user_id: user.userId, trigger: t.name, message, event: e.event, event_id: e.event_id, at: e.ts })
      }
    }
    env.props = undefined
  }
  const streams = plan.streams
  if (streams !== undefined) {
    for (const stream of streams) {
      const copy: StreamedEvent = { stream, tenant: user.tenant, user_id: user.userId, event: e.event, event_id: e.event_id, at: e.ts, received_at: e.received_at, properties: e.properties }
      if (e.anonymous_id !== undefined) copy.anonymous_id = e.anonymous_id
      out.streamed.push(copy)
    }
  }
}

/** The named aggregates' values for the user in `rt.env`, by canonical text. */
export function values(rt: RuleRuntime, indexes: readonly number[]): Record<string, number | null> {
  const out: Record<string, number | null> = {}
  for (const i of indexes) out[rt.rules.metrics[i]!.spec.key] = rt.env.metric(i)
  return out
}
