import { DuckDBInstance, StatementType, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api'
import { mkdirSync } from 'node:fs'
import { totalmem } from 'node:os'
import { join, resolve, sep } from 'node:path'
import { buildViews } from './build-views.ts'
import { toJson, type JsonValue } from './convert.ts'
import { READ_ONLY_MESSAGE, readOnlyViolation } from './guard.ts'
import { inventory, type Inventory } from './views.ts'
import { SessionsStore } from './sessions-store.ts'
import type { SessionsContext } from './build-views.ts'
import { firstKeptDay } from '../retention.ts'
import { QueryError } from './query-error.ts'
import { catalogNames, restrictToTenant, type CatalogNames } from './tenant-sql.ts'
import type { Logger } from '../../logger.ts'

export const QUERY_DEFAULTS = {
  maxRows: 10_000,
  timeoutMs: 10_000,
  refreshMs: 500,
  staleMs: 5_000,
  /** Queries running at once, counting ones past their time limit that DuckDB has not stopped yet. */
  maxRunning: 4,
  /** DuckDB's memory limit: a quarter of the machine's memory, at most 2 GiB. */
  memoryLimitBytes: Math.min(2 * 1024 ** 3, Math.floor(totalmem() / 4)),
  /** Spill files DuckDB may write under <warehouse>/.duckdb-tmp. */
  maxTempBytes: 4 * 1024 ** 3,
} as const

/** How long past its time limit a query is waited for before the caller is answered anyway. */
const ABANDON_AFTER_MS = 1_000

export interface QueryOptions {
  /** Rows returned at most; more set `truncated`. Default 10,000. */
  maxRows?: number
  /** The query is interrupted after this long. Default 10,000 ms. */
  timeoutMs?: number
  /** Named parameters (`$name` in the SQL). */
  params?: Record<string, string | number | boolean | null>
  /**
   * Who asks (the key's tenant): one owner may hold at most half of the running slots, so one
   * tenant's slow reports cannot make every other tenant's answer `busy`.
   */
  owner?: string
  /** Runs as this tenant's query: it reads only the views, filtered to its rows (tenant-sql.ts). Unset: every tenant's rows. */
  tenant?: string
}

export interface QueryColumn {
  name: string
  type: string
}

export interface QueryResult {
  columns: QueryColumn[]
  rows: JsonValue[][]
  truncated: boolean
  ms: number
}

export interface Warehouse {
  /** Absolute warehouse directory. */
  readonly root: string
  query(sql: string, opts?: QueryOptions): Promise<QueryResult>
  /** Re-reads which files exist and rebuilds the views if that changed. */
  refresh(force?: boolean): Promise<void>
  /**
   * The files changed (the server's sink flushed or merged), so the next query sees them: checked
   * in the background now while queries come (one within staleMs), else by that query first.
   */
  filesChanged(): void
  /** Resolves when no background work (a sessions build, a rebuild) is running. */
  settled(): Promise<void>
  close(): void
}

export interface WarehouseOptions {
  /** How often a query first checks for new files (directory listings). Default 500 ms (a listing of the day directories: a few ms); 0 = every query. */
  refreshMs?: number
  /**
   * Views checked less than this long ago (and at least `refreshMs` ago) answer a query at once
   * while the check, and the view rebuild when files changed, run in the background; older ones
   * are refreshed first. Default 5,000 ms, the sink's flush interval: on a running server a merge
   * pass or flush changes the files every few seconds, and rebuilding the views (each file's schema
   * read again) cost a report 130–600 ms it did not need to wait for. Never below `refreshMs`;
   * with `refreshMs` 0 every query waits for its check, as before.
   */
  staleMs?: number
  /** Queries running at once, abandoned ones included. Default 4. */
  maxRunning?: number
  /**
   * Partition expiration in days (`serve --retention-days`): the views leave out days that have
   * expired (src/warehouse/retention.ts) from the first query after 00:00 UTC on, whether or not
   * the sink has removed them yet. Default: every day on disk is shown.
   */
  retentionDays?: number
  /**
   * Keep the `sessions` view materialised (sessions-store.ts): built in the background after
   * opening (the live view answers until then), brought up to date right after every view rebuild
   * (queries do not wait for it: until it commits, `sessions` answers for the rebuild before) and
   * at least every SESSIONS_REFRESH_MS. Default false (one-off queries: `tagstream query`, reports).
   */
  materialiseSessions?: boolean
  /** Told about background failures (a sessions build). */
  onError?: (err: unknown, what: string) => void
  /** Debug lines: each view rebuild and sessions build, with how long it took. */
  logger?: Logger
}

/** How often a warehouse with materialised sessions looks for new files without being asked. */
export const SESSIONS_REFRESH_MS = 30_000

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

class DuckWarehouse implements Warehouse {
  private signature = ''
  private checkedAt = 0
  /** filesChanged() calls so far, and how many of them the last finished check had seen. */
  private changes = 0
  private checkedChanges = 0
  /** When the last query came (epoch ms): filesChanged() checks at once only while queries come. */
  private queriedAt = 0
  private refreshing: Promise<void> | null = null
  /** The first day the views show (retention), as of the last refresh; null when every day is shown. */
  private keptFrom: string | null = null
  private readonly staleMs: number
  private closed = false
  /** Queries DuckDB is still running, including ones whose caller was already answered. */
  private running = 0
  /** The same, per owner (QueryOptions.owner). */
  private readonly runningBy = new Map<string, number>()

  private readonly sessions: SessionsStore | null
  /** The sessions tables' updates, one after another in rebuild order (never rejects). */
  private sessionsWork: Promise<void> = Promise.resolve()
  /** The views as the last rebuild made them (name, SELECT): a tenant's query makes its own of them (tenant-sql.ts). */
  private views: ReadonlyArray<readonly [string, string]> = []
  /** The catalog's other names, read at the first tenant query after a rebuild (tenant-sql.ts). */
  private catalog: Promise<CatalogNames> | null = null
  private timer: NodeJS.Timeout | null = null
  private readonly onError: (err: unknown, what: string) => void
  private readonly logger: Logger | undefined

  private readonly refreshMs: number
  private readonly maxRunning: number
  private readonly retentionDays: number | null

  constructor(
    readonly root: string,
    private readonly db: DuckDBInstance,
    opts: WarehouseOptions,
  ) {
    // Work still running when close() is called fails on the closed database: that is not news.
    const told = opts.onError ?? (() => undefined)
    const onError = (this.onError = (err, what) => {
      if (!this.closed) told(err, what)
    })
    this.logger = opts.logger
    const refreshMs = (this.refreshMs = opts.refreshMs ?? QUERY_DEFAULTS.refreshMs)
    this.maxRunning = opts.maxRunning ?? QUERY_DEFAULTS.maxRunning
    this.retentionDays = opts.retentionDays ?? null
    this.staleMs = refreshMs === 0 ? 0 : Math.max(refreshMs, opts.staleMs ?? QUERY_DEFAULTS.staleMs)
    this.sessions =
      opts.materialiseSessions === true
        ? new SessionsStore(root, () => db.connect(), {
            onError: (err) => onError(err, 'sessions build'),
            logger: opts.logger,
            onBuilt: () => void this.refresh(true).catch((err: unknown) => onError(err, 'refresh')),
          })
        : null
    if (this.sessions) {
      this.timer = setInterval(() => void this.refresh().catch((err: unknown) => onError(err, 'refresh')), SESSIONS_REFRESH_MS)
      this.timer.unref()
    }
  }

  /** Waits until no sessions build, check or sessions update runs (tests). */
  async settled(): Promise<void> {
    for (;;) {
      await this.sessions?.idle()
      while (this.refreshing) await this.refreshing.catch(() => undefined)
      const work = this.sessionsWork
      await work
      // A build's end starts a refresh, and an update's end may start a build.
      if (work === this.sessionsWork && this.refreshing === null && this.sessions?.busy !== true) return
    }
  }

  /** Replaces the views for `inv`; with materialised sessions, queues the tables' update after them. */
  private async rebuild(conn: DuckDBConnection, inv: Inventory): Promise<void> {
    const sessions = this.sessions
    if (sessions === null) {
      this.views = (await buildViews(conn, this.root, inv)).views
      this.catalog = null
      return
    }
    sessions.prepare(inv)
    const ctx = await buildViews(conn, this.root, inv, sessions)
    this.views = ctx.views
    this.catalog = null
    this.sessionsWork = this.sessionsWork.then(() => this.updateSessions(sessions, ctx))
  }

  /**
   * The sessions tables brought up to `ctx.inv` while queries and later rebuilds go on (the e2e
   * benchmark's last rows waited 1.3 s for this when it ran inside the rebuild, and as long again
   * when the next rebuild waited for it). When it cannot follow, the views are rebuilt with the
   * live sessions view and the tables are built again.
   */
  private async updateSessions(sessions: SessionsStore, ctx: SessionsContext): Promise<void> {
    const started = performance.now()
    let followed = false
    try {
      const conn = await this.db.connect()
      try {
        followed = await sessions.update(conn, ctx)
        if (followed) this.logger?.debug({ ms: Math.round(performance.now() - started) }, 'warehouse sessions tables updated')
      } finally {
        conn.closeSync()
      }
    } catch (err) {
      this.onError(err, 'sessions update')
    }
    if (followed) {
      sessions.startBuild()
      return
    }
    // Through the refresh, one rebuild at a time (concurrent ones conflict on the catalog); its own
    // update then finds no tables and starts the build.
    sessions.reset()
    if (!this.closed) void this.refresh(true).catch((err: unknown) => this.onError(err, 'refresh'))
  }

  /** The first day the views show now (an expired day is never shown), or null when they show every day. */
  private keptFromNow(): string | null {
    return this.retentionDays === null ? null : firstKeptDay(Date.now(), this.retentionDays)
  }

  /** One check at a time: a refresh asked while one runs waits for it, then checks again (unless `force` is false and that check is fresh). */
  async refresh(force = false): Promise<void> {
    while (this.refreshing) {
      await this.refreshing.catch(() => undefined)
      if (!force && this.refreshMs > 0 && Date.now() - this.checkedAt < this.refreshMs && this.keptFromNow() === this.keptFrom && this.checkedChanges === this.changes) return
    }
    const run = this.check(force)
    this.refreshing = run
    try {
      await run
    } finally {
      if (this.refreshing === run) this.refreshing = null
    }
  }

  filesChanged(): void {
    this.changes++
    // Only while queries come (the last one within staleMs); otherwise the next query checks first.
    // A client whose small bursts each end in a quiet flush must not buy a view rebuild (up to
    // 250 ms over a soak's files) and a sessions update per flush on a server nobody is asking.
    if (this.closed || Date.now() - this.queriedAt >= this.staleMs) return
    void this.refresh().catch((err: unknown) => this.onError(err, 'refresh'))
  }

  /** Lists the files and rebuilds the views if they changed (or `force`). */
  private async check(force: boolean): Promise<void> {
    const changes = this.changes
    const keptFrom = this.keptFromNow()
    const inv = await inventory(this.root, keptFrom)
    const signature = JSON.stringify(inv)
    this.checkedAt = Date.now()
    if (!force && signature === this.signature) {
      this.keptFrom = keptFrom
      this.checkedChanges = changes
      return
    }
    const conn = await this.db.connect()
    const started = performance.now()
    try {
      await this.rebuild(conn, inv)
      this.signature = signature
      this.keptFrom = keptFrom
      this.checkedChanges = changes
      this.logger?.debug({ files: Object.values(inv.events).flat().length + inv.predictions.length, ms: Math.round(performance.now() - started) }, 'warehouse views rebuilt')
    } finally {
      conn.closeSync()
    }
  }

  /**
   * Runs one read-only statement with a time limit. DuckDB checks for an interrupt between vectors,
   * so a single long computation (`length(repeat('x', 1500000000))`) can outlive it: the caller is
   * answered with `timeout` at most ABANDON_AFTER_MS later anyway, and the query keeps its slot in
   * `running` until DuckDB lets go, so abandoned queries cannot pile up (`busy` beyond maxRunning).
   */
  async query(sql: string, opts: QueryOptions = {}): Promise<QueryResult> {
    const timeoutMs = opts.timeoutMs ?? QUERY_DEFAULTS.timeoutMs
    const refused = readOnlyViolation(sql)
    if (refused) throw new QueryError('read_only', refused)
    if (this.running >= this.maxRunning) {
      throw new QueryError('busy', `${this.running} queries are running (at most ${this.maxRunning}, counting ones past their time limit); retry shortly`)
    }
    const owner = opts.owner
    const ownerLimit = Math.max(1, Math.floor(this.maxRunning / 2))
    if (owner !== undefined && (this.runningBy.get(owner) ?? 0) >= ownerLimit) {
      throw new QueryError('busy', `${ownerLimit} of your queries are running (at most ${ownerLimit} at once, counting ones past their time limit); retry shortly`)
    }
    // A day that expired since the last refresh goes at once, not refreshMs later.
    this.queriedAt = Date.now()
    const age = Date.now() - this.checkedAt
    // Files the sink said changed and nobody checks yet (no query came lately): checked first.
    const untold = this.checkedChanges !== this.changes && this.refreshing === null
    if (age >= this.staleMs || untold || this.keptFromNow() !== this.keptFrom) await this.refresh()
    else if (age >= this.refreshMs && this.refreshing === null) void this.refresh().catch((err: unknown) => this.onError(err, 'refresh'))
    this.running++
    if (owner !== undefined) this.runningBy.set(owner, (this.runningBy.get(owner) ?? 0) + 1)
    const work = this.run(sql, opts, timeoutMs).finally(() => {
      this.running--
      if (owner === undefined) return
      const left = (this.runningBy.get(owner) ?? 1) - 1
      if (left === 0) this.runningBy.delete(owner)
      else this.runningBy.set(owner, left)
    })
    let abandon: NodeJS.Timeout | undefined
    const late = new Promise<never>((_, reject) => {
      abandon = setTimeout(() => reject(new QueryError('timeout', `query took longer than ${timeoutMs} ms`)), timeoutMs + ABANDON_AFTER_MS)
    })
    try {
      return await Promise.race([work, late])
    } finally {
      clearTimeout(abandon)
      work.catch(() => undefined)
    }
  }

  private async run(sql: string, opts: QueryOptions, timeoutMs: number): Promise<QueryResult> {
    const maxRows = opts.maxRows ?? QUERY_DEFAULTS.maxRows

    const started = performance.now()
    // One connection per query: interrupt() stops only this query, and queries run in parallel.
    const conn = await this.db.connect()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      conn.interrupt()
    }, timeoutMs)
    const timeout = () => new QueryError('timeout', `query took longer than ${timeoutMs} ms`)
    try {
      if (opts.tenant !== undefined) {
        // A failed read (this query interrupted) is not kept: the next tenant query reads again.
        this.catalog ??= catalogNames(conn).catch((err: unknown) => {
          this.catalog = null
          throw err
        })
        await restrictToTenant(conn, sql, opts.tenant, this.views, await this.catalog)
      }
      const prepared = await this.prepare(conn, sql)
      if (opts.params) prepared.bind(opts.params)
      const result = await prepared.stream()
      const rows: JsonValue[][] = []
      let truncated = false
      for (;;) {
        const chunk = await result.fetchChunk()
        if (timedOut) throw timeout()
        if (!chunk || chunk.rowCount === 0) break
        for (const row of chunk.getRows()) {
          if (rows.length === maxRows) {
            truncated = true
            break
          }
          rows.push(row.map(toJson))
        }
        if (truncated) break
      }
      const names = result.columnNames()
      const types = result.columnTypes()
      const columns = names.map((name, i) => ({ name, type: types[i]?.toString() ?? 'UNKNOWN' }))
      return { columns, rows, truncated, ms: Math.round((performance.now() - started) * 10) / 10 }
    } catch (err) {
      if (err instanceof QueryError) throw err
      if (timedOut) throw timeout()
      throw new QueryError('sql_error', message(err))
    } finally {
      clearTimeout(timer)
      conn.closeSync()
    }
  }

  private async prepare(conn: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement> {
    const statements = await conn.extractStatements(sql)
    if (statements.count !== 1) throw new QueryError('read_only', `${READ_ONLY_MESSAGE}, one statement at a time (got ${statements.count})`)
    const prepared = await statements.prepare(0)
    if (prepared.statementType !== StatementType.SELECT) throw new QueryError('read_only', READ_ONLY_MESSAGE)
    return prepared
  }

  close(): void {
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    this.sessions?.stop()
    // The database is closed once background work (a view rebuild, a sessions build) has stopped:
    // closing it under a running statement took a test process down (a native crash, seen once
    // under a full test run's load). Nothing new starts once `closed` is set.
    void this.settled()
      .catch(() => undefined)
      .finally(() => this.db.closeSync())
  }
}

/**
 * Opens the Parquet warehouse at `root` in an in-memory DuckDB with the views of docs/warehouse.md.
 * Works on an empty or missing directory (empty typed views). File access is confined to `root`
 * and the configuration is locked, so a SELECT cannot read other files or change settings.
 */
export async function openWarehouse(root: string, opts: WarehouseOptions = {}): Promise<Warehouse> {
  const abs = resolve(root)
  // Spill files stay under the warehouse directory (not <cwd>/.tmp); views never look there.
  const temp = join(abs, '.duckdb-tmp')
  mkdirSync(temp, { recursive: true })
  const db = await DuckDBInstance.create(':memory:', {
    memory_limit: `${Math.floor(QUERY_DEFAULTS.memoryLimitBytes / 1024 ** 2)}MB`,
    temp_directory: temp,
    max_temp_directory_size: `${Math.floor(QUERY_DEFAULTS.maxTempBytes / 1024 ** 2)}MB`,
  })
  // Settled before the first view rebuild, which also starts the sessions build: both read every
  // file (the footer cache) and the build names sessions by time (the UTC time zone).
  const conn = await db.connect()
  try {
    // Every query and every view rebuild reads the footers of all live files (hundreds on a running
    // server); files are never rewritten in place, so cached footers stay right. Measured on a soak's
    // 396 files: a view rebuild 190 ms instead of 270 ms, popular_events 62 ms instead of 74 ms.
    // (The setting belongs to the built-in parquet extension, loaded first.)
    await conn.run('LOAD parquet')
    await conn.run('SET GLOBAL parquet_metadata_cache = true')
    await conn.run(`SET allowed_directories = [${`'${(abs + sep).replaceAll("'", "''")}'`}]`)
    await conn.run('SET enable_external_access = false')
    // Event files store ts/received_at as UTC-adjusted instants (TIMESTAMP WITH TIME ZONE); the views
    // present them as plain TIMESTAMPs, which must mean UTC whatever time zone the server runs in.
    await conn.run(`SET GLOBAL TimeZone = 'UTC'`)
    await conn.run('SET lock_configuration = true')
  } finally {
    conn.closeSync()
  }
  const wh = new DuckWarehouse(abs, db, opts)
  try {
    await wh.refresh(true)
  } catch (err) {
    wh.close()
    throw err
  }
  return wh
}
