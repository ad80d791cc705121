/**
 * The canonical JSON record's envelope (docs/events.md, "Inside: the stored event"): the text
 * written before each field's value, in the record's order. One table for the writer
 * (./json-writer.ts), the engine's reader (./json-reader.ts) and the collector's fast path
 * (src/ingest/fast-path-json.ts), which each cut it at the quotes around their values.
 */
export const JSON_LAYOUT = {
  event: '{"event":',
  userId: ',"user_id":',
  anonymousId: ',"anonymous_id":',
  ts: ',"ts":',
  eventId: ',"event_id":',
  /** Written whole: the field's only value is true. */
  assigned: ',"id_assigned":true',
  tenant: ',"tenant":',
  receivedAt: ',"received_at":',
} as const
