import { ident, lit } from './views.ts'

/**
 * The gap rule's default: a user's next event more than this many minutes after their previous one
 * starts a new session (the usual web-analytics inactivity timeout). Exactly 30 minutes is still
 * the same session.
 */
export const SESSION_GAP_MINUTES = 30

/** Event names a client sends to open and close a session explicitly. */
export const SESSION_START_EVENT = 'session_start'
export const SESSION_END_EVENT = 'session_end'

/** The property (a column of `events` when any file has it) that names a session outright, as seed 004's clickstream sends it. */
export const SESSION_ID_PROPERTY = 'session_id'

/**
 * The expression for an event's `session_id` property, given the `events` view's columns: the
 * column when it is text, the property as sent (from the `properties` JSON) when the files type it
 * otherwise (a numeric 17 must stay "17", not become "17.0"); null when no file has it. Empty means
 * absent.
 */
export function sessionIdExpression(eventColumns: ReadonlyMap<string, string>): string | null {
  const name = [...eventColumns.keys()].find((k) => k.toLowerCase() === SESSION_ID_PROPERTY)
  if (name === undefined) return null
  const value = eventColumns.get(name) === 'VARCHAR' ? ident(name) : `json_extract_string(properties, ${lit(`$.${SESSION_ID_PROPERTY}`)})`
  return `nullif(trim(${value}), '')`
}

export interface SessionSources {
  /** The session_id expression (sessionIdExpression); null when no file has the property. */
  sessionId: string | null
  /** Whether any session_start / session_end events exist (the inventory says). */
  markers: boolean
  gapMinutes?: number
}

/**
 * The `sessions` view: one row per session per (tenant, user_id), over the `events` view (so it
 * reads whatever files `events` reads, fresh or compacted, across days). How the three sources
 * combine (docs/warehouse.md, "Sessions"):
 * 1. An event with a `session_id` belongs to that session of its user, whatever the gaps; those
 *    events take no part in 2 and 3 (a second device's session does not bridge gaps of the first).
 * 2. The user's other events, in (ts, partition, offset) order, start a new session when: it is
 *    the user's first; it is a `session_start`; the previous one was a `session_end`; or it comes
 *    more than `gapMinutes` after the previous one, unless it lies inside an explicit pair (a
 *    `session_start` whose next start/end marker is a `session_end`), which the gap rule never
 *    splits.
 * 3. So a `session_start` without its `session_end` (a client that crashed) opens a session that
 *    the gap rule still ends; a lost end cannot swallow the rest of the user's history.
 * One SQL statement of window functions: nothing is materialised, and a compaction that rewrites
 * files changes nothing (the order uses partition and offset, which files keep).
 *
 * Cost: one window pass over the events, then one over the rows that open a session (each session
 * ends where the next one opens, or at the user's last event), rather than numbering every event
 * and grouping by the number, which takes a second pass and a grouping over all events. The parts
 * a warehouse has no data for (no session_id column, no marker events) are left out of the SQL:
 * the same answer without the windows that would find nothing.
 */
export function sessionsSelect({ sessionId, markers, gapMinutes = SESSION_GAP_MINUTES }: SessionSources): string {
  if (!Number.isFinite(gapMinutes) || gapMinutes <= 0) throw new Error(`session gap must be a positive number of minutes, got ${gapMinutes}`)
  const byId = sessionId !== null
  const start = lit(SESSION_START_EVENT)
  const end = lit(SESSION_END_EVENT)
  const gap = `epoch_us(ts) - epoch_us(prev_ts) > ${Math.round(gapMinutes * 60_000_000)}`
  const user = 'PARTITION BY tenant, user_id'
  const parts: string[] = [`e AS (
  SELECT tenant, user_id, event, ts, "partition", "offset"${byId ? `, ${sessionId} AS sid` : ''}
  FROM events WHERE user_id IS NOT NULL AND ts IS NOT NULL)`]
  if (byId) {
    parts.push(`by_id AS (
  SELECT tenant, user_id, sid AS session, 'session_id' AS source, min(ts) AS started_at, max(ts) AS ended_at, count(*) AS events
  FROM e WHERE sid IS NOT NULL GROUP BY tenant, user_id, sid)`)
  }
  // Per event (without a session_id): its place, the event before it, the user's last event, and the markers around it.
  parts.push(`w AS (
  SELECT tenant, user_id, event, ts, row_number() OVER w AS rn, lag(ts) OVER w AS prev_ts,
    count(*) OVER (${user}) AS n, max(ts) OVER (${user}) AS last_ts${markers ? `,
    lag(event) OVER w AS prev_event, last_value(event) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS last_event,
    last_value(marker IGNORE NULLS) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS marker_before,
    first_value(marker IGNORE NULLS) OVER (w ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS marker_after` : ''}
  FROM (SELECT *${markers ? `, CASE WHEN event IN (${start}, ${end}) THEN event END AS marker` : ''} FROM e${byId ? ' WHERE sid IS NULL' : ''})
  WINDOW w AS (${user} ORDER BY ts, "partition", "offset"))`)
  const opens = markers
    ? `prev_ts IS NULL OR event = ${start} OR prev_event = ${end}
  OR (${gap} AND NOT coalesce(marker_before = ${start} AND (event = ${end} OR marker_after = ${end}), false))`
    : `prev_ts IS NULL OR ${gap}`
  // A session runs from its opening event to the event before the next opening one (that one's prev_ts, prev_event).
  parts.push(`o AS (SELECT * FROM w WHERE ${opens})`, `by_rule AS (
  SELECT tenant, user_id, user_id || '@' || strftime(ts, '%Y-%m-%dT%H:%M:%S.%gZ') AS session,
    ${markers ? `CASE WHEN event = ${start} OR coalesce(lead(prev_event) OVER s, last_event) = ${end} THEN 'explicit' ELSE 'gap' END` : "'gap'"} AS source,
    ts AS started_at, coalesce(lead(prev_ts) OVER s, last_ts) AS ended_at, coalesce(lead(rn) OVER s, n + 1) - rn AS events
  FROM o WINDOW s AS (${user} ORDER BY rn))`)
  return `WITH ${parts.join(',\n')}
SELECT tenant, user_id, session, source, started_at, ended_at,
  (epoch_us(ended_at) - epoch_us(started_at)) / 1e6 AS duration, events
FROM ${byId ? '(SELECT * FROM by_id UNION ALL SELECT * FROM by_rule)' : 'by_rule'}`
}
