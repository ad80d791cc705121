import type { InboxMessage } from '../state/state-store.ts'

/** A user entering or leaving a segment: the `segment-changes` log, in order per user. */
export interface SegmentChange {
  segment: string
  tenant: string
  user_id: string
  change: 'entered' | 'exited'
  /** Event time of the change, epoch ms. */
  at: number
  /** The segment's aggregates at that moment, by canonical text. */
  values: Record<string, number | null>
  /** Per-user sequence number of changes, from 1. */
  version: number
  /** Set on the exits of an erase (docs/privacy.md): the person no longer exists, downstream copies should go too. */
  reason?: 'erased'
}

/** A trigger firing on an event: the `notifications` log. */
export interface Notification {
  trigger: string
  emit: string
  tenant: string
  user_id: string
  event: string
  event_id: string
  /** Event time of the triggering event, epoch ms. */
  at: number
  properties: Record<string, unknown>
  values: Record<string, number | null>
}

/**
 * A message for a player (docs/streams.md, "Player notifications"): a trigger with `emit: player`
 * fired. The `player-notifications` log; players' inboxes are filled from it and keep it as it is,
 * with the time they took it in. `id` is `<event_id>:<trigger>`: one per firing, the same after a replay.
 */
export type PlayerNotification = Omit<InboxMessage, 'storedAt'>

/** An event of an event stream (docs/streams.md, "Event streams"): its stream's log, as JSON. */
export interface StreamedEvent {
  stream: string
  tenant: string
  /** The person the event was applied to. */
  user_id: string
  anonymous_id?: string
  event: string
  event_id: string
  /** Event time, epoch ms. */
  at: number
  received_at: number
  properties: Record<string, unknown>
}

/** An id linked into a person (docs/identity.md): the `identities` log, in order per person. */
export interface IdentityLink {
  tenant: string
  /** The person. */
  user_id: string
  /** The id linked into the person (an anonymous id, or an alias's previous id). */
  id: string
  /** Event time of the link: the person's partition's clock when the link was made, epoch ms. */
  at: number
}

export interface EngineStats {
  processed: number
  /** Events older than the watermark when they arrived. */
  late: number
  /** Late events too old for a window they belonged to: not counted in that window. */
  lateDropped: number
  segmentChanges: number
  notifications: number
  /**
   * Records of the partition that could not be decoded or applied and went to the dead letters
   * (docs/engine.md, "Poison records"). An event that failed to apply is in `processed` too.
   */
  poison: number
  /** Prediction events applied (predicted-traits.ts); they are in `processed` too. */
  predictions: number
  /** Prediction events dropped: for a user the partition does not hold, or scored before the one it has. */
  predictionsDropped: number
}

export function emptyStats(): EngineStats {
  return { processed: 0, late: 0, lateDropped: 0, segmentChanges: 0, notifications: 0, poison: 0, predictions: 0, predictionsDropped: 0 }
}
