import type { DuckDBResultReader } from '@duckdb/node-api'
import {
  BASE_COLUMNS,
  col,
  emptySelect,
  establishedTypes,
  GAME_COLUMNS,
  IDENTITY_COLUMNS,
  ident,
  lit,
  NOTIFICATION_COLUMNS,
  RESCUED_COLUMN,
  SEGMENT_CHANGE_COLUMNS,
  TIMESTAMPTZ,
  type Inventory,
} from './views.ts'
import { PREDICTION_COLUMNS, predictionsSelect } from './predictions-view.ts'
import { SESSION_END_EVENT, SESSION_START_EVENT, sessionIdExpression, sessionsSelect } from './sessions-view.ts'

export type Columns = ReadonlyArray<readonly [string, string]>

/** What building the views needs of a DuckDB connection (a prediction run's passes through a gate: src/predict/call-gate.ts). */
export interface ViewConnection {
  run(sql: string): Promise<unknown>
  runAndReadAll(sql: string): Promise<DuckDBResultReader>
}

/** Every view openWarehouse creates, in creation order. */
export const VIEW_NAMES = ['events', 'buys', 'social', 'segment_changes', 'notifications', 'identities', 'profiles', 'sessions', 'predictions'] as const

/** The files as a DuckDB list literal: views read the inventory's live files, never a glob (views.ts, Inventory). */
function fileList(paths: readonly string[]): string {
  return `[${paths.map(lit).join(', ')}]`
}

function eventsSource(paths: readonly string[], filename = false): string {
  return `read_parquet(${fileList(paths)}, hive_partitioning = true, union_by_name = true, hive_types = {'dt': DATE, 'event': VARCHAR}${filename ? ', filename = true' : ''})`
}

function plainSource(paths: readonly string[]): string {
  return `read_parquet(${fileList(paths)}, union_by_name = true)`
}

/** Column name → DuckDB type of a source, read from the files' footers. */
async function describe(conn: ViewConnection, source: string): Promise<Map<string, string>> {
  const r = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)
  const out = new Map<string, string>()
  for (const row of r.getRowsJson()) out.set(String(row[0]), String(row[1]))
  return out
}

/**
 * `*` with each expected column the files type otherwise converted to its type (TRY_CAST), plus
 * typed NULLs for the expected columns no file carries yet. `skip`: columns converted elsewhere.
 */
function starWithMissing(have: Map<string, string>, expected: Columns, skip: ReadonlySet<string> = new Set()): string {
  const replace = expected.filter(([n, t]) => !skip.has(n) && have.has(n) && have.get(n) !== t).map(([n, t]) => `TRY_CAST(${ident(n)} AS ${t}) AS ${ident(n)}`)
  const missing = expected.filter(([n]) => !have.has(n)).map(([n, t]) => `NULL::${t} AS ${ident(n)}`)
  return [replace.length > 0 ? `* REPLACE (${replace.join(', ')})` : '*', ...missing].join(', ')
}

/**
 * The events view's declared columns: the fixed ones, the game's, `_rescued`, then every other
 * property column with the type the sink established for it (when all events that have it agree).
 */
function eventsColumns(root: string, have: Map<string, string>): Columns {
  const declared: Array<readonly [string, string]> = [...BASE_COLUMNS.filter(([n]) => n !== 'event'), ...GAME_COLUMNS, [RESCUED_COLUMN, 'VARCHAR']]
  const names = new Set(declared.map(([n]) => n.toLowerCase()))
  const established = establishedTypes(root)
  for (const name of have.keys()) {
    const t = established.get(name.toLowerCase())
    if (t !== undefined && !names.has(name.toLowerCase()) && name !== 'dt') declared.push([name, t])
  }
  return declared
}

const TIME_TYPES = /^(TIMESTAMP|DATE)/
/**
 * Engine records carry `at` as epoch ms: the REPLACE item that presents it as a UTC instant
 * (TIMESTAMP WITH TIME ZONE, as the sink writes it now) whatever older files hold, or '' when it is one already.
 */
function atAsTimestamp(have: Map<string, string>): string {
  const t = have.get('at')
  if (t === undefined || t === TIMESTAMPTZ) return ''
  // Files written before `at` was an instant hold a UTC TIMESTAMP (the session is UTC, so the cast is exact).
  if (TIME_TYPES.test(t) || t === 'VARCHAR') return `TRY_CAST("at" AS ${TIMESTAMPTZ}) AS "at"`
  return `CAST(epoch_ms(TRY_CAST("at" AS BIGINT)) AS ${TIMESTAMPTZ}) AS "at"`
}

function buysSelect(have: Map<string, string>, source: string): string {
  const c = (n: string, t: string) => col(have, n, t)
  return `SELECT ${c('ts', TIMESTAMPTZ)} AS "timestamp", 'buy_' || ${c('kind', 'VARCHAR')} AS event_type, ${c('user_id', 'VARCHAR')} AS user_id,
    ${c('status', 'VARCHAR')} AS status, ${c('type', 'VARCHAR')} AS type, ${c('cost', 'DOUBLE')} AS cost,
    ${c('player_created', 'VARCHAR')} AS player_created, ${c('player_wealth', 'DOUBLE')} AS player_wealth,
    ${c('player_num_items', 'INTEGER')} AS player_num_items, ${c('host', 'VARCHAR')} AS host, ${c('user_agent', 'VARCHAR')} AS user_agent,
    ${c('accept', 'VARCHAR')} AS accept, ${c('kind', 'VARCHAR')} AS kind, ${c('tenant', 'VARCHAR')} AS tenant,
    ${c('received_at', TIMESTAMPTZ)} AS spk_ts, ${c('properties', 'VARCHAR')} AS raw_event, ${c('dt', 'DATE')} AS dt FROM ${source}`
}

const BUYS_EMPTY = `SELECT * FROM (${buysSelect(new Map(), '(SELECT 1)')}) WHERE false`

function socialSelect(have: Map<string, string>, source: string, event: string): string {
  const c = (n: string, t: string) => col(have, n, t)
  return `SELECT ${c('ts', TIMESTAMPTZ)} AS "timestamp", ${lit(event)} AS event_type, ${c('user_id', 'VARCHAR')} AS user_id,
    ${c('status', 'VARCHAR')} AS status, ${c('org', 'VARCHAR')} AS org, ${c('level', 'VARCHAR')} AS level, ${c('cost', 'DOUBLE')} AS cost,
    ${c('player_created', 'VARCHAR')} AS player_created, ${c('player_wealth', 'DOUBLE')} AS player_wealth,
    ${c('player_num_affiliations', 'INTEGER')} AS player_num_affiliations, ${c('host', 'VARCHAR')} AS host,
    ${c('user_agent', 'VARCHAR')} AS user_agent, ${c('accept', 'VARCHAR')} AS accept, ${c('kind', 'VARCHAR')} AS kind,
    ${c('tenant', 'VARCHAR')} AS tenant, ${c('received_at', TIMESTAMPTZ)} AS spk_ts, ${c('properties', 'VARCHAR')} AS raw_event,
    ${c('dt', 'DATE')} AS dt FROM ${source}`
}

const SOCIAL_EMPTY = `SELECT * FROM (${socialSelect(new Map(), '(SELECT 1)', 'join_guild')}) WHERE false`

/** What the sessions view is built from, for a materialisation (sessions-store.ts). */
export interface SessionsContext {
  /** The session_id expression over the events view (null: no file has the property). */
  sessionId: string | null
  markers: boolean
  /** The events view's source columns and their types (read_parquet's union of the files). */
  eventColumns: ReadonlyMap<string, string>
  /** The files the views read. */
  inv: Inventory
  /** The events view's SELECT over exactly those files (the sessions update reads them again, not the view, which a later rebuild may have moved on). */
  eventsSql: string
  /** Every view as built: its name and SELECT (a tenant's query makes its own views of them: tenant-sql.ts). */
  views: ReadonlyArray<readonly [string, string]>
}

/** How a materialisation takes part in a rebuild: the sessions view's SQL, or null for the live view. */
export interface SessionsHooks {
  view(ctx: SessionsContext): string | null
}

/**
 * The events view's SELECT over `files`: every column typed as the view declares it. `extra`:
 * columns the relation must have with these types whatever the files hold (another relation's
 * columns, so the same expressions bind over both); `filename`: with the file each row came from.
 */
export async function eventsRelation(
  conn: ViewConnection,
  root: string,
  files: readonly string[],
  opts: { extra?: Columns; filename?: boolean } = {},
): Promise<{ sql: string; columns: Map<string, string> }> {
  const source = eventsSource(files, opts.filename === true)
  const have = await describe(conn, source)
  const declared = eventsColumns(root, have)
  const names = new Set(declared.map(([n]) => n.toLowerCase()))
  const expected = [...declared, ...(opts.extra ?? []).filter(([n]) => !names.has(n.toLowerCase()))]
  return { sql: `SELECT ${starWithMissing(have, expected)} FROM ${source}`, columns: have }
}

/**
 * (Re)creates every view for what the inventory says exists. A view over files that do not exist
 * yet would fail at query time ("No files found"), so those are typed empty views instead.
 * Per-event views (buys, social) read only their own `event=NAME` directories.
 * All are replaced in one transaction; returns what the sessions view was built from.
 */
export async function buildViews(conn: ViewConnection, root: string, inv: Inventory, sessions?: SessionsHooks): Promise<SessionsContext> {
  const views: Array<[string, string]> = []
  // The sessions view needs to know whether any file has a session_id (a missing column would not bind).
  let eventColumns: ReadonlyMap<string, string> = new Map()
  let eventsSql = emptySelect([...BASE_COLUMNS, ['dt', 'DATE'], ...GAME_COLUMNS, [RESCUED_COLUMN, 'VARCHAR']])

  const allEvents = Object.values(inv.events).flat()
  if (allEvents.length > 0) {
    const rel = await eventsRelation(conn, root, allEvents)
    eventColumns = rel.columns
    eventsSql = rel.sql
  }
  views.push(['events', eventsSql])

  const purchases = inv.events.purchase ?? []
  if (purchases.length > 0) {
    const source = eventsSource(purchases)
    views.push(['buys', buysSelect(await describe(conn, source), source)])
  } else views.push(['buys', BUYS_EMPTY])

  const socialParts: string[] = []
  for (const event of ['join_guild', 'join_team']) {
    const files = inv.events[event] ?? []
    if (files.length === 0) continue
    const source = eventsSource(files)
    socialParts.push(socialSelect(await describe(conn, source), source, event))
  }
  views.push(['social', socialParts.length > 0 ? socialParts.join('\nUNION ALL\n') : SOCIAL_EMPTY])

  for (const [name, files, expected] of [
    ['segment_changes', inv.segmentChanges, SEGMENT_CHANGE_COLUMNS],
    ['notifications', inv.notifications, NOTIFICATION_COLUMNS],
    ['identities', inv.identities, IDENTITY_COLUMNS],
  ] as const) {
    if (files.length > 0) {
      const source = plainSource(files)
      const have = await describe(conn, source)
      const at = atAsTimestamp(have)
      let star = starWithMissing(have, expected, new Set(['at']))
      if (at !== '') star = star.startsWith('* REPLACE (') ? star.replace('* REPLACE (', `* REPLACE (${at}, `) : star.replace('*', `* REPLACE (${at})`)
      views.push([name, `SELECT ${star} FROM ${source}`])
    } else views.push([name, emptySelect(expected)])
  }

  // A snapshot of every user as the warehouse knows them: activity from the events, and the segments
  // they are in now (their latest change per segment is an entry). Traits live in the live profile API.
  views.push([
    'profiles',
    `WITH seen AS (SELECT tenant, user_id, min(ts) AS first_seen, max(ts) AS last_seen, count(*) AS event_count FROM events GROUP BY ALL),
latest AS (SELECT tenant, user_id, segment, arg_max(change, version) AS change, max("at") AS since FROM segment_changes GROUP BY ALL)
SELECT seen.tenant, seen.user_id, seen.first_seen, seen.last_seen, seen.event_count,
  coalesce(list(latest.segment ORDER BY latest.segment) FILTER (WHERE latest.change = 'entered'), []) AS segments
FROM seen LEFT JOIN latest USING (tenant, user_id) GROUP BY ALL`,
  ])

  const markers = (inv.events[SESSION_START_EVENT]?.length ?? 0) + (inv.events[SESSION_END_EVENT]?.length ?? 0) > 0
  const sessionId = sessionIdExpression(eventColumns)
  const context: SessionsContext = { sessionId, markers, eventColumns, inv, eventsSql, views }
  views.push(['sessions', sessions?.view(context) ?? sessionsSelect({ sessionId, markers })])

  // The daily scoring run's output, from its own files only (inv.events leaves them out).
  if (inv.predictions.length > 0) {
    const source = eventsSource(inv.predictions)
    views.push(['predictions', predictionsSelect(await describe(conn, source), source)])
  } else views.push(['predictions', emptySelect(PREDICTION_COLUMNS)])

  await conn.run('BEGIN TRANSACTION')
  try {
    for (const [name, sql] of views) await conn.run(`CREATE OR REPLACE VIEW ${name} AS ${sql}`)
    await conn.run('COMMIT')
  } catch (err) {
    await conn.run('ROLLBACK')
    throw err
  }
  return context
}
