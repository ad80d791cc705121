import type { EventError } from './envelope.ts'
import { MIN_EVENT_TIME, parseEventTime } from './event-time.ts'

/*
 * From the times a client sends to the event time (docs/events.md#event-time). A client's `ts` is
 * read on the client's clock, and clocks are wrong: one tenant whose devices run a day ahead would
 * move the watermark of every partition it shares a day ahead, and everybody else's correct events
 * would become late. Two rules keep a client's clock from reaching anybody else:
 *
 * - A request that says when it was sent (`sent_at`, on the same clock as its `ts`) is shifted by
 *   received_at − sent_at: the skew of the client's clock, measured on the request itself (the
 *   correction Segment and RudderStack apply to `timestamp` with `sentAt`/`receivedAt`). Network
 *   time is counted as skew, so a corrected time is a little late, never early.
 * - No event time is later than received_at, the collector's own clock: a later one is clamped to
 *   it (and beyond maxFutureMs rejected, as a client that far off is sending garbage).
 *
 * Without a server clock (tagstream replay: a file is replayed as written, and its result must not
 * depend on when it runs) neither rule applies: the client's ts is kept exactly.
 */

/** The property that keeps a client's own `ts` (epoch ms) whenever the server changed it. */
export const ORIGINAL_TS = 'original_ts'

/**
 * What the last successful resolveEventTime decided. Module state, read straight after the call:
 * validateEvent runs for every event, and a result object per event would be one more allocation.
 */
export const resolved = {
  ts: 0,
  /** The server changed the client's ts (corrected or clamped); `client` is then the value sent. */
  changed: false,
  client: 0,
}

/**
 * Reads an event's `ts` and `sent_at` (raw JSON values; undefined or null when absent) into
 * `resolved`, or returns the error: `ts: …` or `sent_at: …`. `requestSentAt` is the request's own
 * sent_at (epoch ms), used when the event has none. `serverClock`: receivedAt is the server's clock,
 * so correct by sent_at and clamp; false keeps the client's ts as it is. (Plain arguments, not an
 * options object: this runs for every event.)
 */
export function resolveEventTime(rawTs: unknown, rawSentAt: unknown, receivedAt: number, maxFutureMs: number, serverClock: boolean, requestSentAt: number | undefined): EventError | null {
  const hasTs = rawTs !== undefined && rawTs !== null
  let client = 0
  if (hasTs) {
    const t = parseEventTime(rawTs)
    if (!t.ok) return { field: 'ts', reason: t.reason }
    client = t.ms
  }
  // An event's own sent_at wins over the request's; null is no value, as for ts.
  let sentAt = requestSentAt
  if (rawSentAt !== undefined && rawSentAt !== null) {
    const s = parseEventTime(rawSentAt)
    if (!s.ok) return { field: 'sent_at', reason: s.reason }
    sentAt = s.ms
  }
  let ts = hasTs ? client : receivedAt
  let corrected = false
  if (serverClock && sentAt !== undefined) {
    ts = (hasTs ? client : sentAt) + (receivedAt - sentAt)
    corrected = true
  }
  if (ts > receivedAt + maxFutureMs) {
    return { field: 'ts', reason: `is more than ${maxFutureMs / 3_600_000}h in the future${corrected ? ' (corrected by sent_at)' : ''}` }
  }
  // A client's own ts is never this early (parseEventTime refuses it); a corrected one can be.
  if (corrected && ts < MIN_EVENT_TIME) return { field: 'ts', reason: 'is before 2000-01-01T00:00:00Z once corrected by sent_at' }
  if (serverClock && ts > receivedAt) ts = receivedAt
  resolved.ts = ts
  resolved.changed = hasTs && ts !== client
  resolved.client = client
  return null
}
