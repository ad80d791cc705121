import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api'
import { randomUUID } from 'node:crypto'
import { mkdir, rm } from 'node:fs/promises'
import { join, resolve, sep } from 'node:path'
import { BASE_COLUMNS } from '../layout.ts'
import { ident, literal } from '../sink/sql.ts'
import { toJson, type JsonValue } from './convert.ts'
import { inventory, TIMESTAMPTZ, type Inventory } from './views.ts'

/*
 * One person's rows in the warehouse, for an export of everything the server holds about them
 * (GET /v1/profiles/:user_id/export, docs/privacy.md): their events, segment changes and
 * notifications, read by DuckDB straight from the live Parquet files and handed over chunk by chunk,
 * so a person with 100,000 events never sits in memory at once. Not through the views: those hide
 * expired days that are still on disk, and a query there returns a bounded page, not a stream.
 * The tenant and the ids are bound as parameters; file paths are quoted by `literal`.
 */

/** One row as JSON: timestamps as ISO-8601 UTC, JSON-text columns (`properties`, `values`) parsed. */
export type PersonRow = { [column: string]: JsonValue }

/** Whose rows: a tenant and the person's ids (any of them as `user_id`, or as `anonymous_id` for events). */
export interface PersonFilter {
  tenant: string
  ids: readonly string[]
}

/** DuckDB's memory for an export; beyond it the sort spills under the warehouse directory. */
const MEMORY_LIMIT = '256MB'
/** Columns stored as JSON text, given back as the value they hold. */
const JSON_TEXT_COLUMNS: ReadonlySet<string> = new Set(['properties', 'values'])

/**
 * The warehouse's files as they were when opened (their live part files: a merge's inputs it has
 * superseded are left out, so no row is read twice), and a DuckDB of its own, made only when there
 * is a file to read. Close it when done (an export that ends early included).
 */
export class PersonWarehouse {
  private db: DuckDBInstance | null = null
  private conn: DuckDBConnection | null = null
  private closed = false
  private closing: Promise<void> | null = null
  private connecting: Promise<DuckDBConnection> | null = null
  /** The DuckDB call running now (connecting, a query, a chunk), which close() waits for. */
  private busy: Promise<unknown> | null = null
  /** Spill files go here, a directory of this export's own under the warehouse, removed on close. */
  private readonly tempDir: string

  private constructor(
    private readonly root: string,
    private readonly files: Inventory,
  ) {
    this.tempDir = join(root, '.duckdb-tmp', `export-${randomUUID()}`)
  }

  /** Lists the live files under `root` (no files, or no directory: no rows, no error). */
  static async open(root: string): Promise<PersonWarehouse> {
    const abs = resolve(root)
    return new PersonWarehouse(abs, await inventory(abs))
  }

  /**
   * The person's events, ordered by `ts`, then `partition`, `offset`: the base columns
   * (src/warehouse/layout.ts), `properties` parsed. `below`: in these partitions of the events log,
   * only rows below the offset (the rest is read from the log); every row of the other partitions.
   */
  async *events(who: PersonFilter, below: ReadonlyMap<number, number>): AsyncGenerator<PersonRow> {
    // The person's prediction events too (`event` = `$prediction`): scores about them are their data.
    const files = [...Object.values(this.files.events).flat(), ...this.files.predictions]
    if (files.length === 0 || who.ids.length === 0) return
    const ids = idParams(who.ids, 2)
    const cut = [...below].map(([p, offset]) => `("partition" = ${int(p)} AND "offset" < ${int(offset)})`)
    const cutSql = cut.length === 0 ? '' : ` AND ("partition" NOT IN (${[...below.keys()].map(int).join(', ')}) OR ${cut.join(' OR ')})`
    const source = `read_parquet(${fileList(files)}, hive_partitioning = true, union_by_name = true, hive_types = {'dt': DATE, 'event': VARCHAR})`
    const sql =
      `SELECT ${BASE_COLUMNS.map((c) => ident(c.name)).join(', ')} FROM ${source} ` +
      `WHERE tenant = $1 AND (user_id IN (${ids}) OR anonymous_id IN (${ids}))${cutSql} ORDER BY ts, "partition", "offset"`
    yield* this.rows(sql, [who.tenant, ...who.ids])
  }

  /** The person's segment entries and exits (`<root>/segment-changes`), by `at`, then `partition`, `offset`. */
  segmentChanges(who: PersonFilter): AsyncGenerator<PersonRow> {
    return this.stream(this.files.segmentChanges, who)
  }

  /** The trigger notifications about the person (`<root>/notifications`), by `at`, then `partition`, `offset`. */
  notifications(who: PersonFilter): AsyncGenerator<PersonRow> {
    return this.stream(this.files.notifications, who)
  }

  /**
   * Stops the reads and frees DuckDB; safe to call more than once, and while a read is waiting for
   * its chunk (a client that hangs up): the database is closed once that chunk has come, never under
   * a running call (warehouse.ts's close says why).
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true
      await this.connecting?.catch(() => undefined)
      while (this.busy !== null) await this.busy
      this.conn?.closeSync()
      this.db?.closeSync()
      await rm(this.tempDir, { recursive: true, force: true })
    })()
    return this.closing
  }

  /** An output stream's rows (topics.ts's columns) of the tenant whose `user_id` is one of the ids. */
  private async *stream(files: readonly string[], who: PersonFilter): AsyncGenerator<PersonRow> {
    if (files.length === 0 || who.ids.length === 0) return
    const source = `read_parquet(${fileList(files)}, union_by_name = true)`
    const conn = await this.connection()
    if (this.closed) return
    const have = await this.call(columnTypes(conn, source))
    if (!have.has('tenant') || !have.has('user_id')) return
    const at = atAsTimestamp(have.get('at'))
    const order = ['at', 'partition', 'offset'].filter((c) => have.has(c)).map(ident)
    const sql =
      `SELECT *${at === null ? '' : ` REPLACE (${at} AS "at")`} FROM ${source} WHERE tenant = $1 AND user_id IN (${idParams(who.ids, 2)})` + (order.length === 0 ? '' : ` ORDER BY ${order.join(', ')}`)
    yield* this.rows(sql, [who.tenant, ...who.ids])
  }

  /** A query's rows, fetched one DuckDB chunk (2,048 rows) at a time; ends early once closed. */
  private async *rows(sql: string, params: string[]): AsyncGenerator<PersonRow> {
    const conn = await this.connection()
    if (this.closed) return
    const result = await this.call(conn.stream(sql, params))
    const names = result.columnNames()
    for (;;) {
      if (this.closed) return
      const chunk = await this.call(result.fetchChunk())
      if (chunk === null || chunk.rowCount === 0) return
      for (const values of chunk.getRows()) yield rowOf(names, values)
    }
  }

  /** Runs one DuckDB call, known to close() until it settles. */
  private async call<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    )
    this.busy = settled
    try {
      return await work
    } finally {
      if (this.busy === settled) this.busy = null
    }
  }

  /** The export's DuckDB, made at the first query. */
  private connection(): Promise<DuckDBConnection> {
    if (this.closed) return Promise.reject(new Error('the export has ended'))
    this.connecting ??= this.connect()
    return this.connecting
  }

  private async connect(): Promise<DuckDBConnection> {
    await mkdir(this.tempDir, { recursive: true })
    const db = (this.db = await DuckDBInstance.create(':memory:', { memory_limit: MEMORY_LIMIT, temp_directory: this.tempDir }))
    const conn = (this.conn = await db.connect())
    // File access confined to the warehouse, as for every other query of it (warehouse.ts). Older
    // files hold plain TIMESTAMPs meaning UTC: read so whatever time zone the server runs in.
    await conn.run(`SET allowed_directories = [${literal(this.root + sep)}]`)
    await conn.run('SET enable_external_access = false')
    await conn.run(`SET TimeZone = 'UTC'`)
    return conn
  }
}

/** `$from, $from+1, …`: one placeholder per id. */
function idParams(ids: readonly string[], from: number): string {
  return ids.map((_, i) => `$${from + i}`).join(', ')
}

/** A number going into SQL text: only a non-negative integer. */
function int(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a non-negative integer: ${n}`)
  return String(n)
}

function fileList(paths: readonly string[]): string {
  return `[${paths.map(literal).join(', ')}]`
}

async function columnTypes(conn: DuckDBConnection, source: string): Promise<Map<string, string>> {
  const r = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)
  const out = new Map<string, string>()
  for (const row of r.getRowsJson()) out.set(String(row[0]), String(row[1]))
  return out
}

/**
 * `at` of the engine's records as a UTC instant, whatever the files hold (as the views read it:
 * build-views.ts): null when it is one already or missing; older files have a plain TIMESTAMP or
 * epoch milliseconds.
 */
function atAsTimestamp(type: string | undefined): string | null {
  if (type === undefined || type === TIMESTAMPTZ) return null
  if (/^(TIMESTAMP|DATE)/.test(type) || type === 'VARCHAR') return `TRY_CAST("at" AS ${TIMESTAMPTZ})`
  return `CAST(epoch_ms(TRY_CAST("at" AS BIGINT)) AS ${TIMESTAMPTZ})`
}

function rowOf(names: readonly string[], values: readonly DuckDBValue[]): PersonRow {
  const row: PersonRow = {}
  names.forEach((name, i) => {
    const v = toJson(values[i] ?? null)
    row[name] = JSON_TEXT_COLUMNS.has(name) && typeof v === 'string' ? parsed(v) : v
  })
  return row
}

/** JSON text as its value; text that is not JSON stays as it is. */
function parsed(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue
  } catch {
    return text
  }
}
