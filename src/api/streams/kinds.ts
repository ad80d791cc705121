import { TOPICS } from '../../log/event-log.ts'

/** The two output logs a client can follow, and how each is named on the wire. */
export interface StreamKind {
  /** URL path segment and `X-Tagstream-Stream` value. */
  name: 'segment-changes' | 'notifications'
  topic: string
  /** SSE `event:` field. */
  event: 'segment-change' | 'notification'
  /** One letter in the cursor, so a cursor of one stream is refused by the other. */
  tag: 's' | 'n'
  /** The record field the `?segment=` / `?trigger=` filter and a webhook's `only` match. */
  field: 'segment' | 'trigger'
}

export const SEGMENT_CHANGES: StreamKind = { name: 'segment-changes', topic: TOPICS.segmentChanges, event: 'segment-change', tag: 's', field: 'segment' }
export const NOTIFICATIONS: StreamKind = { name: 'notifications', topic: TOPICS.notifications, event: 'notification', tag: 'n', field: 'trigger' }

export const STREAM_KINDS: Record<StreamKind['name'], StreamKind> = {
  'segment-changes': SEGMENT_CHANGES,
  notifications: NOTIFICATIONS,
}
