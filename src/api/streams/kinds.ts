import { eventStreamTopic, TOPICS } from '../../log/event-log.ts'

/** An output log a client can follow, and how it is named on the wire. */
export interface StreamKind {
  /** `X-Tagstream-Stream` value and webhook stream name: the log's topic name. */
  name: string
  /** URL path after `/v1/`. */
  path: string
  topic: string
  /** SSE `event:` field. */
  event: 'segment-change' | 'notification' | 'player-notification' | 'event'
  /** In the cursor, so a cursor of one stream is refused by another: one letter, or `e-<stream>`. */
  tag: string
  /** The record field the stream's filter (`?segment=`, `?trigger=`, `?event=`) and a webhook's `only` match. */
  field: 'segment' | 'trigger' | 'event'
}

export const SEGMENT_CHANGES: StreamKind = { name: 'segment-changes', path: 'segment-changes', topic: TOPICS.segmentChanges, event: 'segment-change', tag: 's', field: 'segment' }
export const NOTIFICATIONS: StreamKind = { name: 'notifications', path: 'notifications', topic: TOPICS.notifications, event: 'notification', tag: 'n', field: 'trigger' }
export const PLAYER_NOTIFICATIONS: StreamKind = {
  name: 'player-notifications',
  path: 'player-notifications',
  topic: TOPICS.playerNotifications,
  event: 'player-notification',
  tag: 'p',
  field: 'trigger',
}

/** The fixed streams by name (webhooks name them so). */
export const STREAM_KINDS: Readonly<Record<string, StreamKind>> = {
  'segment-changes': SEGMENT_CHANGES,
  notifications: NOTIFICATIONS,
  'player-notifications': PLAYER_NOTIFICATIONS,
}

/** An event stream of the rules file (docs/streams.md, "Event streams"): `buy` → `buy-events`. */
export function eventStreamKind(stream: string): StreamKind {
  const topic = eventStreamTopic(stream)
  return { name: topic, path: `event-streams/${stream}`, topic, event: 'event', tag: `e-${stream}`, field: 'event' }
}

/** A stream by name: a fixed one, or `<stream>-events` of one of `eventStreams`; null when there is none. */
export function streamKindNamed(name: string, eventStreams: readonly string[]): StreamKind | null {
  const fixed = STREAM_KINDS[name]
  if (fixed !== undefined && Object.hasOwn(STREAM_KINDS, name)) return fixed
  const stream = eventStreams.find((s) => eventStreamTopic(s) === name)
  return stream === undefined ? null : eventStreamKind(stream)
}

/** The URL path of the stream a cursor tag belongs to, for a cursor given to the wrong stream. */
export function pathOfTag(tag: string): string | null {
  for (const k of Object.values(STREAM_KINDS)) if (k.tag === tag) return k.path
  return tag.startsWith('e-') && tag.length > 2 ? `event-streams/${tag.slice(2)}` : null
}
