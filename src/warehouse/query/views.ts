import { readFileSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { isPredictionEvent } from '../../events/prediction.ts'
import { liveFileNames, parseDtDir, parseEventDir, STREAM_DIRS } from '../layout.ts'

/** SQL string literal. */
export function lit(s: string): string {
  return `'${s.replaceAll("'", "''")}'`
}

export function ident(s: string): string {
  return `"${s.replaceAll('"', '""')}"`
}

type Columns = ReadonlyArray<readonly [name: string, type: string]>

/**
 * Event times as the files hold them: UTC instants (the sink's files and compaction's declare them
 * UTC-adjusted). Declared so, a view reads them without a cast, and DuckDB skips row groups by their
 * ts statistics (a cast hides them: a time range over 5M rows took 641 ms instead of 4.5 ms). Older
 * files with plain TIMESTAMPs are read as UTC (the warehouse's session time zone).
 */
export const TIMESTAMPTZ = 'TIMESTAMP WITH TIME ZONE'

/** Columns the sink always writes, then `dt` (from the path). */
export const BASE_COLUMNS: Columns = [
  ['event', 'VARCHAR'],
  ['user_id', 'VARCHAR'],
  ['anonymous_id', 'VARCHAR'],
  ['ts', TIMESTAMPTZ],
  ['event_id', 'VARCHAR'],
  ['tenant', 'VARCHAR'],
  ['received_at', TIMESTAMPTZ],
  ['partition', 'INTEGER'],
  ['offset', 'BIGINT'],
  ['properties', 'VARCHAR'],
]

/**
 * Properties of the game API's events (docs/game.md). The `events` view always has them (NULL when
 * no file carries one yet), so reports and saved queries do not break on a young warehouse.
 */
export const GAME_COLUMNS: Columns = [
  ['host', 'VARCHAR'],
  ['user_agent', 'VARCHAR'],
  ['accept', 'VARCHAR'],
  ['kind', 'VARCHAR'],
  ['type', 'VARCHAR'],
  ['cost', 'DOUBLE'],
  ['amount', 'DOUBLE'],
  ['status', 'VARCHAR'],
  ['org', 'VARCHAR'],
  ['level', 'VARCHAR'],
  ['player_name', 'VARCHAR'],
  ['player_created', 'VARCHAR'],
  ['player_wealth', 'DOUBLE'],
  ['player_health', 'DOUBLE'],
  ['player_num_items', 'DOUBLE'],
  ['player_num_affiliations', 'DOUBLE'],
  ['player_version', 'DOUBLE'],
]

export const SEGMENT_CHANGE_COLUMNS: Columns = [
  ['segment', 'VARCHAR'],
  ['tenant', 'VARCHAR'],
  ['user_id', 'VARCHAR'],
  ['change', 'VARCHAR'],
  ['at', TIMESTAMPTZ],
  ['values', 'VARCHAR'],
  ['version', 'BIGINT'],
]

export const NOTIFICATION_COLUMNS: Columns = [
  ['trigger', 'VARCHAR'],
  ['emit', 'VARCHAR'],
  ['tenant', 'VARCHAR'],
  ['user_id', 'VARCHAR'],
  ['event', 'VARCHAR'],
  ['event_id', 'VARCHAR'],
  ['at', TIMESTAMPTZ],
  ['properties', 'VARCHAR'],
  ['values', 'VARCHAR'],
]

/** Identity links (docs/identity.md): `user_id` is the person, `id` the id linked into it. */
export const IDENTITY_COLUMNS: Columns = [
  ['tenant', 'VARCHAR'],
  ['user_id', 'VARCHAR'],
  ['id', 'VARCHAR'],
  ['at', TIMESTAMPTZ],
]

/** The rescue column of event files (src/warehouse/sink/event-columns.ts): values that did not fit their column's type. */
export const RESCUED_COLUMN = '_rescued'

/**
 * Lower-cased column name → the type the sink established for it, where every activity event that
 * has the column agrees (`<root>/events/_column_types.json`, src/warehouse/sink/column-types.ts).
 * Empty when the file is missing or unreadable: the views then go by the files alone. Prediction
 * events are left out, as the `events` view leaves out their files: their columns are not its
 * columns, and a `model_version` typed otherwise there must not cost an event's column its type.
 */
export function establishedTypes(root: string): Map<string, string> {
  const out = new Map<string, string>()
  let stored: { events?: Record<string, Record<string, string>> }
  try {
    stored = JSON.parse(readFileSync(join(root, 'events', '_column_types.json'), 'utf8')) as typeof stored
  } catch {
    return out
  }
  const conflicting = new Set<string>()
  for (const [event, cols] of Object.entries(stored.events ?? {})) {
    if (isPredictionEvent(event)) continue
    for (const [name, type] of Object.entries(cols)) {
      const had = out.get(name)
      if (had !== undefined && had !== type) conflicting.add(name)
      out.set(name, type)
    }
  }
  for (const name of conflicting) out.delete(name)
  return out
}

/*
 * Views never fail on one bad value. Files written before the sink kept column types (or by another
 * writer) may type a column differently from file to file: read_parquet's union_by_name then gives
 * the common supertype (VARCHAR when one file has a string), and a CAST of 'abc' fails the whole
 * query. So every column a view declares is read with TRY_CAST to its declared type: a value that
 * does not convert is NULL in the view (it is still in `properties`, and in `_rescued` for files
 * the sink writes now).
 */

/**
 * `name` converted to `type` (NULL where a value does not convert), or a typed NULL when no file has
 * that column. `have`: the source's columns and types (DESCRIBE of read_parquet's union).
 */
export function col(have: ReadonlyMap<string, string>, name: string, type: string): string {
  const t = have.get(name)
  if (t === undefined) return `NULL::${type}`
  return t === type ? ident(name) : `TRY_CAST(${ident(name)} AS ${type})`
}

/** A typed view with no rows: what a view is before its first file exists. */
export function emptySelect(cols: Columns): string {
  return `SELECT ${cols.map(([n, t]) => `NULL::${t} AS ${ident(n)}`).join(', ')} WHERE false`
}

/**
 * What files exist, cheaply (directory listings only). Changes to it trigger a view rebuild. The
 * views read exactly these files, never a glob: a merge publishes its file before its inputs go,
 * and a glob would read both (docs/warehouse-sink.md, "Compaction"); superseded inputs are left out
 * here (liveFileNames) and stay on disk for a grace period, so a query planned before a merge still
 * finds every file it listed.
 */
export interface Inventory {
  /**
   * Activity: event name → its live files, every kept day, in path order. Prediction events are not
   * here: they are the scoring run's output, not something the user did, so the `events` view and
   * everything built on it (buys, social, profiles, sessions, the reports) never count them.
   */
  events: Record<string, string[]>
  /** The live files of the prediction events (`event=$prediction`, src/events/prediction.ts): the `predictions` view. */
  predictions: string[]
  segmentChanges: string[]
  notifications: string[]
  identities: string[]
}

async function dirs(path: string): Promise<string[]> {
  try {
    return (await readdir(path, { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort()
  } catch {
    return []
  }
}

/** The live part files directly in `dir`, as paths. */
async function liveIn(dir: string): Promise<string[]> {
  let names: string[]
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name)
  } catch {
    return []
  }
  return liveFileNames(names).map((n) => join(dir, n))
}

/** A `dt=YYYY-MM-DD` directory of a day the views show (`keptFrom` null: every day). */
function kept(name: string, keptFrom: string | null): boolean {
  const dt = parseDtDir(name)
  return dt !== null && (keptFrom === null || dt >= keptFrom)
}

/** An output stream's live files: `<root>/<stream>/dt=…/part-…` (and any files directly under the stream). */
async function streamFiles(base: string, keptFrom: string | null): Promise<string[]> {
  const days = (await dirs(base)).filter((dt) => kept(dt, keptFrom))
  const lists = await Promise.all([liveIn(base), ...days.map((dt) => liveIn(join(base, dt)))])
  return lists.flat()
}

/**
 * The live files of every day from `keptFrom` (YYYY-MM-DD) on, or of every day when it is null: a
 * warehouse with a partition expiration (src/warehouse/retention.ts) never shows an expired day,
 * even before the sink's maintenance has removed its directory. Listed asynchronously: a server
 * lists thousands of files every refreshMs while queries come, on the thread that answers ingest
 * requests, and the directory reads need not hold it (2,304 files in 288 directories: the event
 * loop's longest stall 27 ms cold and 12 ms warm when listed synchronously, 11 and 9 ms now).
 */
export async function inventory(root: string, keptFrom: string | null = null): Promise<Inventory> {
  const base = join(root, 'events')
  const days = (await dirs(base)).filter((dt) => kept(dt, keptFrom))
  const perDay = await Promise.all(
    days.map(async (dt) => {
      const evs = (await dirs(join(base, dt))).flatMap((ev) => {
        const name = parseEventDir(ev)
        return name === null ? [] : [{ name, dir: join(base, dt, ev) }]
      })
      return Promise.all(evs.map(async ({ name, dir }) => ({ name, live: await liveIn(dir) })))
    }),
  )
  // Days in order, then event directories in order: the same path order as a walk.
  const events: Record<string, string[]> = {}
  const predictions: string[] = []
  for (const day of perDay) {
    for (const { name, live } of day) {
      if (isPredictionEvent(name)) predictions.push(...live)
      else if (live.length > 0) (events[name] ??= []).push(...live)
    }
  }
  const [segmentChanges, notifications, identities] = await Promise.all(STREAM_DIRS.map((dir) => streamFiles(join(root, dir), keptFrom)))
  return { events, predictions, segmentChanges: segmentChanges!, notifications: notifications!, identities: identities! }
}
