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
 * The rows sessions are made of, from an events relation: tenant, user_id, event, ts, p, o (its log
 * partition and offset) and sid (the session_id, NULL when none or when no file has the property).
 */
export const eventRows = (from: string, sessionId: string | null) =>
  `SELECT tenant, user_id, event, ts, "partition" AS p, "offset" AS o, ${sessionId ?? 'NULL::VARCHAR'} AS sid FROM (${from}) WHERE user_id IS NOT NULL AND ts IS NOT NULL`

/** Rule 1 below over `x` (rows as eventRows gives them): one row per session_id of each user. */
export const idSessions = (x: string) =>
  `SELECT tenant, user_id, sid AS session, min(ts) AS started_at, max(ts) AS ended_at, count(*) AS events FROM ${x} WHERE sid IS NOT NULL GROUP BY tenant, user_id, sid`

/** An event's place in a user's order, as a value DuckDB compares field by field: (ts, partition, offset). */
export const keyOf = (ts: string, p: string, o: string) => `{'t': ${ts}, 'p': ${p}, 'o': ${o}}`

/**
 * The CTEs `w` (every row of `x` with its place and neighbours), `o` (the rows that open a session)
 * and `rs` (one row per session, rules 2 and 3 of the view below) over the relation `x`
 * (tenant, user_id, event, ts, p, o: events without a session_id).
 *
 * With `state` (a relation with one row per user: last_ts, last_event, and the user's last session
 * so far as s_started_at, s_p, s_o, s_event, s_events), each user's rows in `x` continue that
 * history: the first row's previous event is the state's, and the state's last session is carried
 * on as the opener of rank 0, so `rs` gives it again, grown by the rows that do not open a session of
 * their own. The caller guarantees what makes that exact (src/warehouse/query/sessions-store.ts): no
 * row of `x` comes before the state's last event, and the state's last marker is not an unclosed
 * `session_start` (so no earlier split can depend on a marker still to come).
 *
 * `rs`: tenant, user_id, source, started_at, ended_at, events, and the opener's p, o, event and
 * rank (`rn`; 0 for a carried session).
 */
export function ruleSessionCtes(x: string, { markers, gapMinutes = SESSION_GAP_MINUTES }: Omit<SessionSources, 'sessionId'>, state: string | null = null): string[] {
  if (!Number.isFinite(gapMinutes) || gapMinutes <= 0) throw new Error(`session gap must be a positive number of minutes, got ${gapMinutes}`)
  const start = lit(SESSION_START_EVENT)
  const end = lit(SESSION_END_EVENT)
  const gap = `epoch_us(ts) - epoch_us(prev_ts) > ${Math.round(gapMinutes * 60_000_000)}`
  const user = 'PARTITION BY x.tenant, x.user_id'
  const prev = (col: string, stateCol: string) => (state === null ? `lag(x.${col}) OVER w` : `coalesce(lag(x.${col}) OVER w, s.${stateCol})`)
  const ctes: string[] = []
  // Per row: its place, the row before it, the user's last row, and the markers around it.
  ctes.push(`w AS (
  SELECT x.tenant, x.user_id, x.event, x.ts, x.p, x.o, row_number() OVER w AS rn, ${prev('ts', 'last_ts')} AS prev_ts,
    count(*) OVER (${user}) AS n, max(x.ts) OVER (${user}) AS last_ts${
      markers
        ? `,
    ${prev('event', 'last_event')} AS prev_event, last_value(x.event) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS last_event,
    last_value(x.marker IGNORE NULLS) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS marker_before,
    first_value(x.marker IGNORE NULLS) OVER (w ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS marker_after`
        : ''
    }
  FROM (SELECT *${markers ? `, CASE WHEN event IN (${start}, ${end}) THEN event END AS marker` : ''} FROM ${x}) x${state === null ? '' : ` LEFT JOIN ${state} s ON s.tenant = x.tenant AND s.user_id = x.user_id`}
  WINDOW w AS (${user} ORDER BY x.ts, x.p, x.o))`)
  const opens = markers
    ? `prev_ts IS NULL OR event = ${start} OR prev_event = ${end}
  OR (${gap} AND NOT coalesce(marker_before = ${start} AND (event = ${end} OR marker_after = ${end}), false))`
    : `prev_ts IS NULL OR ${gap}`
  const carried = markers ? 'prev_ts, prev_event, n, last_ts, last_event' : 'prev_ts, n, last_ts'
  ctes.push(
    state === null
      ? `o AS (SELECT tenant, user_id, event, ts, p, o, rn, ${carried}, 0 AS before FROM w WHERE ${opens})`
      : `o AS (
  SELECT tenant, user_id, event, ts, p, o, rn, ${carried}, 0 AS before FROM w WHERE ${opens}
  UNION ALL
  SELECT s.tenant, s.user_id, s.s_event, s.s_started_at, s.s_p, s.s_o, 0, NULL, ${markers ? 'NULL, ' : ''}u.n, u.last_ts, ${markers ? 'u.last_event, ' : ''}s.s_events
  FROM ${state} s JOIN (SELECT DISTINCT tenant, user_id, n, last_ts${markers ? ', last_event' : ''} FROM w) u ON u.tenant = s.tenant AND u.user_id = s.user_id
  WHERE s.s_started_at IS NOT NULL)`,
  )
  // A session runs from its opening row to the row before the next opening one (that one's prev_ts,
  // prev_event); a carried session (rank 0) also counts the events it already had.
  ctes.push(`rs AS (
  SELECT tenant, user_id,
    ${markers ? `CASE WHEN event = ${start} OR coalesce(lead(prev_event) OVER s, last_event) = ${end} THEN 'explicit' ELSE 'gap' END` : "'gap'"} AS source,
    ts AS started_at, coalesce(lead(prev_ts) OVER s, last_ts) AS ended_at,
    coalesce(lead(rn) OVER s, n + 1) - rn + (CASE WHEN rn = 0 THEN before - 1 ELSE 0 END) AS events,
    p AS open_p, o AS open_o, event AS open_event, rn
  FROM o WINDOW s AS (PARTITION BY tenant, user_id ORDER BY rn))`)
  return ctes
}

/** The `session` text of a rule session: `<user_id>@<started_at as ISO-8601, ms>`. */
export const ruleSessionName = (userId: string, startedAt: string) => `${userId} || '@' || strftime(${startedAt}, '%Y-%m-%dT%H:%M:%S.%gZ')`

/** The view's columns from one of the relations with tenant, user_id, session, source, started_at, ended_at, events. */
export const SESSION_COLUMNS = 'tenant, user_id, session, source, started_at, ended_at, (epoch_us(ended_at) - epoch_us(started_at)) / 1e6 AS duration, events'

/**
 * The `sessions` view computed live: one row per session per (tenant, user_id), over the `events`
 * view (so it reads whatever files `events` reads, fresh or compacted, across days). How the three
 * sources combine (docs/warehouse.md, "Sessions"):
 * 1. An event with a `session_id` belongs to that session of its user, whatever the gaps; those
 *    events take no part in 2 and 3 (a second device's session does not bridge gaps of the first).
 * 2. The user's other events, in (ts, partition, offset) order, start a new session when: it is
 *    the user's first; it is a `session_start`; the previous one was a `session_end`; or it comes
 *    more than `gapMinutes` after the previous one, unless it lies inside an explicit pair (a
 *    `session_start` whose next start/end marker is a `session_end`), which the gap rule never
 *    splits.
 * 3. So a `session_start` without its `session_end` (a client that crashed) opens a session that
 *    the gap rule still ends; a lost end cannot swallow the rest of the user's history.
 * A compaction that rewrites files changes nothing (the order uses partition and offset, which
 * files keep). A server keeps the same sessions materialised instead (sessions-store.ts); this is
 * the view before that is built, and the whole view of `tagstream query`.
 *
 * Cost: one window pass over the events, then one over the rows that open a session (each session
 * ends where the next one opens, or at the user's last event), rather than numbering every event
 * and grouping by the number, which takes a second pass and a grouping over all events. The parts
 * a warehouse has no data for (no session_id column, no marker events) are left out of the SQL:
 * the same answer without the windows that would find nothing.
 */
export function sessionsSelect({ sessionId, markers, gapMinutes = SESSION_GAP_MINUTES }: SessionSources): string {
  const byId = sessionId !== null
  const parts: string[] = [`e AS (${eventRows('SELECT * FROM events', sessionId)})`]
  if (byId) parts.push(`by_id AS (SELECT tenant, user_id, session, 'session_id' AS source, started_at, ended_at, events FROM (${idSessions('e')}))`)
  parts.push(...ruleSessionCtes(byId ? '(SELECT * FROM e WHERE sid IS NULL)' : 'e', { markers, gapMinutes }))
  const byRule = `SELECT tenant, user_id, ${ruleSessionName('user_id', 'started_at')} AS session, source, started_at, ended_at, events FROM rs`
  return `WITH ${parts.join(',\n')}
SELECT ${SESSION_COLUMNS}
FROM ${byId ? `(SELECT * FROM by_id UNION ALL ${byRule})` : `(${byRule})`}`
}
