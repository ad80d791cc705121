import type { DuckDBConnection } from '@duckdb/node-api'
import { basename, dirname } from 'node:path'
import { parsePartFileName } from '../layout.ts'
import { eventsRelation, type Columns, type SessionsContext, type SessionsHooks } from './build-views.ts'
import { eventRows, idSessions, keyOf, ruleSessionCtes, ruleSessionName, SESSION_COLUMNS, SESSION_END_EVENT, SESSION_ID_PROPERTY, SESSION_START_EVENT } from './sessions-view.ts'
import { lit, type Inventory } from './views.ts'
import type { Logger } from '../../logger.ts'

/*
 * The `sessions` view, materialised (docs/warehouse.md, "Sessions"). Computed live it is a window
 * over every event, seconds at ten million rows; a server keeps the sessions in tables instead,
 * brought up to date with the rows that arrived since after each view rebuild, in a transaction of
 * their own. Neither queries nor later rebuilds wait for that update: until it commits, `sessions`
 * answers for the files of an earlier rebuild (never a row twice, never part of an update). Updates
 * run one at a time, in rebuild order, each reading its own rebuild's files.
 *
 * What the tables hold is defined by a cover: per stream (one event's directory of one day, one log
 * partition), the last offset they include. Within a stream the sink publishes files in offset order
 * and a merge replaces files by one with the same rows, so every row at or below the cover was read,
 * and the rows above it (the tail) are new. A stream that disappears (retention, a deleted day) has
 * taken rows away: the rebuild that sees it gone drops the tables (the live view answers from then
 * on) and they are built again from scratch.
 *
 * Sessions are per user, so only users with tail rows change:
 * - `session_id` sessions are sums (first, last, count) and merge with the tail's.
 * - Rule sessions: a user's last session is carried on with the tail's rows (ruleSessionCtes' state),
 *   which is exact when every tail row comes after the user's last row and the user's last marker is
 *   not an unclosed `session_start` (an earlier gap split could still turn into a closed pair).
 *   Otherwise the user's rule sessions are computed again from their events, from that unclosed
 *   start on (it always opens a session, and nothing before it depends on what follows) or, for a
 *   row that came late, from the opener of the session it falls in (from their first event when a
 *   new row is a marker, which could pair with a start before it).
 */

const SCHEMA = '_sessions'
const RULE = `${SCHEMA}.rule_sessions`
const IDS = `${SCHEMA}.id_sessions`

/** A stream of the warehouse: an event directory of one day and one log partition. */
const streamOf = (path: string): { key: string; first: number; last: number } | null => {
  const r = parsePartFileName(basename(path))
  return r === null ? null : { key: `${dirname(path)}#${r.partition}`, first: r.first, last: r.last }
}

/** Per stream, the last offset of the inventory's files. */
function coverOf(inv: Inventory): Map<string, number> {
  const out = new Map<string, number>()
  for (const files of Object.values(inv.events)) {
    for (const f of files) {
      const s = streamOf(f)
      if (s !== null && s.last > (out.get(s.key) ?? -1)) out.set(s.key, s.last)
    }
  }
  return out
}

/** Whether `next` still has every stream of `cover` (none was removed). */
function covers(next: ReadonlyMap<string, number>, cover: ReadonlyMap<string, number>): boolean {
  for (const key of cover.keys()) if (!next.has(key)) return false
  return true
}

/** Columns of a rule session row as stored: the user's last session also keeps where the user's history ends. */
const RULE_ROW = `tenant, user_id, source, started_at, ended_at, events, open_p, open_o, open_event,
  lead(rn) OVER (PARTITION BY tenant, user_id ORDER BY rn) IS NULL AS is_last`

export interface SessionsStoreOptions {
  /** A build failed (it is tried again at a rebuild BUILD_RETRY_MS later at the earliest). */
  onError?: (err: unknown) => void
  /** A build finished: the next rebuild takes it on (the caller forces one). */
  onBuilt?: () => void
  /** Debug lines: each build, with how long it took. */
  logger?: Logger
}

/** How long after a failed build the next one may start. */
const BUILD_RETRY_MS = 60_000

export class SessionsStore implements SessionsHooks {
  /** Per stream, the last offset the tables hold; null while they hold nothing usable. */
  private cover: Map<string, number> | null = null
  /** Set by a finished build: the cover it was computed for, taken on at the next rebuild. */
  private built: Map<string, number> | null = null
  private building: Promise<void> | null = null
  private retryAt = 0
  /** The build's connection while it runs, so stop() can interrupt it. */
  private buildConn: DuckDBConnection | null = null
  private stopped = false
  /** Counts resets, so an update that ran across one does not set the cover. */
  private generation = 0
  /** The inventory the views were last built for, and the context. */
  private current: { inv: Inventory; ctx: SessionsContext } | null = null

  constructor(
    private readonly root: string,
    private readonly connect: () => Promise<DuckDBConnection>,
    private readonly opts: SessionsStoreOptions = {},
  ) {}

  /** Whether a build from scratch is running. */
  get busy(): boolean {
    return this.building !== null
  }

  view(): string | null {
    if (this.cover === null && this.built === null) return null
    return `SELECT ${SESSION_COLUMNS} FROM (
  SELECT tenant, user_id, session, 'session_id' AS source, started_at, ended_at, events FROM ${IDS}
  UNION ALL
  SELECT tenant, user_id, ${ruleSessionName('user_id', 'started_at')} AS session, source, started_at, ended_at, events FROM ${RULE})`
  }

  /**
   * Before a view rebuild for `inv`: takes on a finished build, and forgets the tables when a stream
   * they cover is gone (so the rebuild gives the live view, never rows that are no longer there).
   */
  prepare(inv: Inventory): void {
    if (this.built !== null) {
      this.cover = this.built
      this.built = null
    }
    if (this.cover !== null && !covers(coverOf(inv), this.cover)) this.reset()
  }

  /**
   * After the views were replaced for `ctx.inv`: brings the tables up to date with its files in a
   * transaction of its own (all or nothing). Updates run one at a time, in rebuild order, while
   * queries and later rebuilds go on. False when a stream the tables cover is not in `ctx.inv` (the
   * caller resets and rebuilds the views with the live view).
   */
  async update(conn: DuckDBConnection, ctx: SessionsContext): Promise<boolean> {
    this.current = { inv: ctx.inv, ctx }
    const cover = this.cover
    if (cover === null) return true
    const next = coverOf(ctx.inv)
    if (!covers(next, cover)) return false
    const generation = this.generation
    await conn.run('BEGIN TRANSACTION')
    try {
      await this.advance(conn, cover, ctx.inv, ctx)
      await conn.run('COMMIT')
    } catch (err) {
      await conn.run('ROLLBACK').catch(() => undefined)
      throw err
    }
    // A reset meanwhile (a later rebuild saw a stream gone) made these tables obsolete.
    if (generation === this.generation) this.cover = next
    return true
  }

  /** Forgets the tables (the next rebuild uses the live view); startBuild() builds them again. */
  reset(): void {
    this.cover = null
    this.built = null
    this.generation++
  }

  /** Starts a build from the views' current inventory unless one runs or the tables are in use. */
  startBuild(): void {
    if (this.stopped || this.building !== null || this.cover !== null || this.built !== null || this.current === null || Date.now() < this.retryAt) return
    const { inv, ctx } = this.current
    const started = performance.now()
    this.building = this.build(inv, ctx)
      .then(() => {
        this.built = coverOf(inv)
        this.opts.logger?.debug({ ms: Math.round(performance.now() - started) }, 'warehouse sessions tables built')
        this.opts.onBuilt?.()
      })
      .catch((err: unknown) => {
        this.retryAt = Date.now() + BUILD_RETRY_MS
        if (!this.stopped) this.opts.onError?.(err)
      })
      .finally(() => void (this.building = null))
  }

  /** Interrupts a running build and starts no other (the database is closing). */
  stop(): void {
    this.stopped = true
    this.buildConn?.interrupt()
  }

  /** Waits for a running build (tests, close). */
  async idle(): Promise<void> {
    await this.building
  }

  /** The tables from scratch for the files of `inv`, outside any rebuild (the live view answers meanwhile). */
  private async build(inv: Inventory, ctx: SessionsContext): Promise<void> {
    const conn = await this.connect()
    this.buildConn = conn
    try {
      const files = Object.values(inv.events).flat()
      const rel = files.length > 0 ? (await eventsRelation(conn, this.root, files)).sql : null
      const e = rel === null ? null : eventRows(rel, ctx.sessionId)
      await conn.run('BEGIN TRANSACTION')
      await conn.run(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`)
      await conn.run(`CREATE OR REPLACE TABLE ${IDS} (tenant VARCHAR, user_id VARCHAR, session VARCHAR, started_at TIMESTAMPTZ, ended_at TIMESTAMPTZ, events BIGINT)`)
      await conn.run(`CREATE OR REPLACE TABLE ${RULE} (tenant VARCHAR, user_id VARCHAR, source VARCHAR, started_at TIMESTAMPTZ, ended_at TIMESTAMPTZ, events BIGINT,
  open_p INTEGER, open_o BIGINT, open_event VARCHAR, is_last BOOLEAN, last_p INTEGER, last_o BIGINT, last_event VARCHAR, unclosed STRUCT(t TIMESTAMPTZ, p INTEGER, o BIGINT))`)
      if (e !== null) {
        if (ctx.sessionId !== null) {
          await conn.run(`INSERT INTO ${IDS} ${idSessions(`(${e})`)}`)
        }
        const x = ctx.sessionId === null ? `(${e})` : `(SELECT * FROM (${e}) WHERE sid IS NULL)`
        await conn.run(`INSERT INTO ${RULE} ${ruleInsert(x, ctx.markers, null)}`)
      }
      await conn.run('COMMIT')
    } catch (err) {
      await conn.run('ROLLBACK').catch(() => undefined)
      throw err
    } finally {
      this.buildConn = null
      conn.closeSync()
    }
  }

  /** Brings the tables from `cover` to `inv` (the tail: rows above the cover), in the caller's transaction. */
  private async advance(conn: DuckDBConnection, cover: ReadonlyMap<string, number>, inv: Inventory, ctx: SessionsContext): Promise<void> {
    const tail: string[] = []
    const partial: string[] = []
    for (const files of Object.values(inv.events)) {
      for (const f of files) {
        const s = streamOf(f)
        if (s === null) continue
        const c = cover.get(s.key)
        if (c !== undefined && s.last <= c) continue
        tail.push(f)
        // A merge may have put covered rows and new ones in one file.
        if (c !== undefined && s.first <= c) partial.push(`(filename = ${lit(f)} AND "offset" <= ${c})`)
      }
    }
    if (tail.length === 0) return
    const sidName = [...ctx.eventColumns.keys()].find((k) => k.toLowerCase() === SESSION_ID_PROPERTY)
    const extra: Columns = sidName === undefined ? [] : [[sidName, ctx.eventColumns.get(sidName)!]]
    const rel = await eventsRelation(conn, this.root, tail, { extra, filename: true })
    const fresh = partial.length > 0 ? `SELECT * FROM (${rel.sql}) WHERE NOT (${partial.join(' OR ')})` : rel.sql
    const run = (sql: string) => conn.run(sql)
    await run(`CREATE OR REPLACE TEMP TABLE _tail AS ${eventRows(fresh, ctx.sessionId)}`)

    // session_id sessions: (first, last, count) merged with the tail's.
    await run(`CREATE OR REPLACE TEMP TABLE _ids AS
SELECT t.tenant, t.user_id, t.session, least(t.started_at, i.started_at) AS started_at, greatest(t.ended_at, i.ended_at) AS ended_at,
  t.events + coalesce(i.events, 0) AS events
FROM (${idSessions('_tail')}) t
LEFT JOIN ${IDS} i ON i.tenant = t.tenant AND i.user_id = t.user_id AND i.session = t.session`)
    await run(`DELETE FROM ${IDS} i USING _ids t WHERE i.tenant = t.tenant AND i.user_id = t.user_id AND i.session = t.session`)
    await run(`INSERT INTO ${IDS} SELECT * FROM _ids`)

    // Rule sessions: per user with tail rows, carry on (state) or compute again from `since` (null: all).
    const lastKey = keyOf('r.ended_at', 'r.last_p', 'r.last_o')
    // A late row (before the user's last) is recomputed from the opener of the session it falls in:
    // openers before it keep their neighbours and markers, unless a new row is a marker (then from the
    // first event). So a client sending late rows costs a scan from its own recent sessions on (a
    // time floor DuckDB prunes by), not of every event, for every tenant's next query.
    const openKey = keyOf('o.started_at', 'o.open_p', 'o.open_o')
    await run(`CREATE OR REPLACE TEMP TABLE _users AS
SELECT t.tenant, t.user_id, r.user_id IS NULL OR (r.unclosed IS NULL AND t.first > ${lastKey}) AS carry,
  CASE WHEN r.unclosed IS NOT NULL AND t.first >= r.unclosed THEN r.unclosed
       WHEN NOT t.markers THEN (SELECT max(${openKey}) FROM ${RULE} o WHERE o.tenant = t.tenant AND o.user_id = t.user_id AND ${openKey} <= t.first) END AS since
FROM (SELECT tenant, user_id, min(${keyOf('ts', 'p', 'o')}) AS first, bool_or(event IN (${lit(SESSION_START_EVENT)}, ${lit(SESSION_END_EVENT)})) AS markers
  FROM _tail WHERE sid IS NULL GROUP BY ALL) t
LEFT JOIN ${RULE} r ON r.is_last AND r.tenant = t.tenant AND r.user_id = t.user_id`)
    await run(`CREATE OR REPLACE TEMP TABLE _state AS
SELECT r.tenant, r.user_id, r.ended_at AS last_ts, r.last_event, r.started_at AS s_started_at, r.open_p AS s_p, r.open_o AS s_o,
  r.open_event AS s_event, r.events AS s_events
FROM _users u JOIN ${RULE} r ON r.is_last AND r.tenant = u.tenant AND r.user_id = u.user_id WHERE u.carry`)
    const again = await conn.runAndReadAll(`SELECT count(*), bool_or(since IS NULL), min(since.t)::VARCHAR FROM _users WHERE NOT carry`)
    const [count, fromStart, earliest] = again.getRowsJson()[0] ?? [0, null, null]
    const parts = [`SELECT t.tenant, t.user_id, t.event, t.ts, t.p, t.o FROM _tail t JOIN _users u ON u.tenant = t.tenant AND u.user_id = t.user_id WHERE u.carry AND t.sid IS NULL`]
    if (Number(count) > 0) {
      // Their events again, from this update's files (ctx.eventsSql: the `events` view may already
      // read a later rebuild's, whose new rows the next update takes as its tail); a time floor lets
      // DuckDB skip row groups by ts.
      const floor = fromStart === true || earliest === null ? '' : ` AND e.ts >= ${lit(String(earliest))}::TIMESTAMPTZ`
      parts.push(`SELECT e.tenant, e.user_id, e.event, e.ts, e.p, e.o FROM (${eventRows(ctx.eventsSql, ctx.sessionId)}) e
JOIN _users u ON u.tenant = e.tenant AND u.user_id = e.user_id
WHERE NOT u.carry AND e.sid IS NULL AND (u.since IS NULL OR ${keyOf('e.ts', 'e.p', 'e.o')} >= u.since)${floor}`)
    }
    await run(`CREATE OR REPLACE TEMP TABLE _rows AS ${parts.join('\nUNION ALL\n')}`)
    await run(`DELETE FROM ${RULE} r USING _users u WHERE r.tenant = u.tenant AND r.user_id = u.user_id
  AND CASE WHEN u.carry THEN r.is_last ELSE u.since IS NULL OR ${keyOf('r.started_at', 'r.open_p', 'r.open_o')} >= u.since END`)
    await run(`INSERT INTO ${RULE} ${ruleInsert('_rows', ctx.markers, '_state')}`)
    for (const t of ['_tail', '_ids', '_users', '_state', '_rows']) await run(`DROP TABLE ${t}`)
  }
}

/**
 * The rows to insert into the rule sessions table for the rows of `x` (carrying on `state`, when
 * given): the sessions, and on each user's last one where the user's history ends and the key of
 * an unclosed `session_start` (the last marker being a start), which decide how the next rows join.
 */
function ruleInsert(x: string, markers: boolean, state: string | null): string {
  const ctes = ruleSessionCtes(x, { markers }, state)
  const start = lit(SESSION_START_EVENT)
  const end = lit(SESSION_END_EVENT)
  // Where each user's rows end, and their last marker, from x itself (the state's last marker is never an unclosed start).
  ctes.push(`ends AS (
  SELECT tenant, user_id, arg_max(p, ${keyOf('ts', 'p', 'o')}) AS last_p, arg_max(o, ${keyOf('ts', 'p', 'o')}) AS last_o,
    arg_max(event, ${keyOf('ts', 'p', 'o')}) AS last_event,
    arg_max(event, ${keyOf('ts', 'p', 'o')}) FILTER (WHERE event IN (${start}, ${end})) AS last_marker,
    max(${keyOf('ts', 'p', 'o')}) FILTER (WHERE event IN (${start}, ${end})) AS last_marker_key
  FROM ${x} GROUP BY tenant, user_id)`)
  ctes.push(`sessions AS (SELECT ${RULE_ROW} FROM rs)`)
  return `WITH ${ctes.join(',\n')}
SELECT s.tenant, s.user_id, s.source, s.started_at, s.ended_at, s.events, s.open_p, s.open_o, s.open_event, s.is_last,
  CASE WHEN s.is_last THEN n.last_p END, CASE WHEN s.is_last THEN n.last_o END, CASE WHEN s.is_last THEN n.last_event END,
  CASE WHEN s.is_last AND n.last_marker = ${start} THEN n.last_marker_key END
FROM sessions s JOIN ends n ON n.tenant = s.tenant AND n.user_id = s.user_id`
}
