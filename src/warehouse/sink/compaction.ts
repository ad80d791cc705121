import { stat, utimes } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { Logger } from '../../logger.ts'
import { DT_PREFIX, EVENTS_DIR, STREAM_DIRS, TMP_EXT, dayDir, liveParts, parseDtDir, parseEventDir, parsePartFileName, partFileName, type PartRange } from '../layout.ts'
import { dirNames, fileNames, publish, removeDir, removeFiles } from './files.ts'
import { ParquetWriter } from './parquet-writer.ts'
import { DEFAULT_RETENTION_DAYS, firstKeptDay } from '../retention.ts'
import { literal } from './sql.ts'

export interface CompactionResult {
  /** Files removed: merge inputs once their grace is over, and superseded leftovers of a crash. */
  filesRemoved: number
  filesWritten: number
}

export interface CompactionOptions {
  logger?: Logger
  /** A partition's files are merged once it has at least this many (default 2). */
  minFiles?: number
  /**
   * How long a merge's inputs stay after the merged file is published (default 0: removed at once).
   * Queries list live files when they are planned (src/warehouse/query/views.ts); a query planned
   * before the merge reads the inputs, so a server that queries while it merges keeps them longer
   * than a query can run (LIVE_COMPACTION.graceMs). Removal happens on a later pass (sweep).
   */
  graceMs?: number
  /** DuckDB threads for the merges; default DuckDB's own (the core count). */
  threads?: number
  now?: number
}

/**
 * Merges a day's part files: per event and partition, all live files become one
 * `part-<p>-<min first>-<max last>.parquet` holding their rows in offset order. See mergeRun for
 * how a merge stays exact for readers and across crashes.
 */
export async function compactDay(root: string, dt: string, options: CompactionOptions = {}): Promise<CompactionResult> {
  const minFiles = options.minFiles ?? 2
  const result: CompactionResult = { filesRemoved: 0, filesWritten: 0 }
  const ctx = { graceMs: options.graceMs ?? 0, now: options.now ?? Date.now() }
  const writer = await ParquetWriter.open({ threads: options.threads })
  try {
    for (const dir of await dayDirs(root, dt)) {
      const files = await sweep(dir, ctx, result)
      for (const run of byPartition(files)) if (run.length >= minFiles) await mergeRun(writer, dir, run, result)
      if (ctx.graceMs === 0) await sweep(dir, ctx, result)
    }
  } finally {
    writer.close()
  }
  if (result.filesWritten + result.filesRemoved > 0) options.logger?.info({ dt, ...result }, 'warehouse day compacted')
  return result
}

/** Events have a directory per event under the day; the output streams keep the day's files in it. */
export async function dayDirs(root: string, dt: string): Promise<string[]> {
  const dirs: string[] = []
  const day = dayDir(root, dt)
  for (const eventName of await dirNames(day)) if (parseEventDir(eventName) !== null) dirs.push(join(day, eventName))
  for (const stream of STREAM_DIRS) dirs.push(join(root, stream, `${DT_PREFIX}${dt}`))
  return dirs
}

/** A part file with what the merge policy looks at. */
export interface PartStat extends PartRange {
  name: string
  bytes: number
  /** When the newest row in it was written (a merged file keeps its inputs' newest time), epoch ms. */
  writtenMs: number
  /** When it appeared under its name (rename or merge), epoch ms: the grace of what it supersedes runs from here. */
  publishedMs: number
}

/**
 * Removes temp files, and superseded files (liveParts) whose superseding file was published at
 * least graceMs ago; returns the live files, in partition and offset order.
 */
export async function sweep(dir: string, ctx: { graceMs: number; now: number }, result: CompactionResult): Promise<PartStat[]> {
  const names = await fileNames(dir)
  await removeFiles(names.filter((n) => n.endsWith(TMP_EXT)).map((n) => join(dir, n)))
  const all: PartStat[] = []
  for (const name of names) {
    const r = parsePartFileName(name)
    if (!r) continue
    const st = await stat(join(dir, name)).catch(() => null)
    if (st) all.push({ ...r, name, bytes: st.size, writtenMs: st.mtimeMs, publishedMs: st.ctimeMs })
  }
  const live = liveParts(all)
  const liveNames = new Set(live.map((f) => f.name))
  const expired: string[] = []
  for (const f of all) {
    if (liveNames.has(f.name)) continue
    const by = live.find((l) => l.partition === f.partition && l.first <= f.first && f.last <= l.last)
    if (by && (ctx.graceMs === 0 || ctx.now - by.publishedMs >= ctx.graceMs)) expired.push(join(dir, f.name))
  }
  await removeFiles(expired)
  result.filesRemoved += expired.length
  return live
}

/** Live files grouped by partition, each group in offset order. */
export function byPartition(files: readonly PartStat[]): PartStat[][] {
  const groups = new Map<number, PartStat[]>()
  for (const f of files) {
    let g = groups.get(f.partition)
    if (!g) groups.set(f.partition, (g = []))
    g.push(f)
  }
  return [...groups.values()]
}

/**
 * Merges a run of live files of one partition, consecutive in offset order (no other live file lies
 * between them, so the merged range holds exactly their rows), into
 * `part-<p>-<first of the first>-<last of the last>`: written under a temp name with the rows in
 * offset order, given the newest input's modification time (the merge policy's age), renamed into
 * place. The inputs stay: from the rename on they are superseded (liveParts), readers listing the
 * directory read the merged file alone, and a later sweep removes them once queries planned before
 * the merge are done. A crash at any point leaves either the inputs alone (and a temp file, removed
 * by the next sweep) or the merged file with superseded inputs: never a row twice or missing.
 */
export async function mergeRun(writer: ParquetWriter, dir: string, run: readonly PartStat[], result: CompactionResult): Promise<PartStat> {
  const first = run[0]!
  const last = run[run.length - 1]!
  const name = partFileName(first.partition, first.first, last.last)
  const path = join(dir, name)
  const tmp = path + TMP_EXT
  const list = run.map((f) => literal(join(dir, f.name))).join(', ')
  // Event files hold ts and received_at as instants (TIMESTAMPTZ: UTC-adjusted, as the sink writes
  // them), so a merged file declares them so too, even from files an older sink wrote as TIMESTAMP:
  // one type per column in every file. In UTC, so such a TIMESTAMP (a UTC time) converts exactly
  // whatever the machine's zone; union_by_name converts it in the session's zone too.
  const instants = parseEventDir(basename(dir)) === null ? '' : ' REPLACE (CAST(ts AS TIMESTAMPTZ) AS ts, CAST(received_at AS TIMESTAMPTZ) AS received_at)'
  await writer.run(`SET TimeZone = 'UTC'`)
  await writer.run(`COPY (SELECT *${instants} FROM read_parquet([${list}], hive_partitioning = false, union_by_name = true) ORDER BY "offset") TO ${literal(tmp)} (FORMAT parquet)`)
  const writtenMs = Math.max(...run.map((f) => f.writtenMs))
  await utimes(tmp, new Date(), new Date(writtenMs))
  await publish([{ tmp, path, dir }])
  result.filesWritten++
  const st = await stat(path)
  return { partition: first.partition, first: first.first, last: last.last, name, bytes: st.size, writtenMs, publishedMs: st.ctimeMs }
}

/**
 * Removes the `dt=` directories (events and output streams) of days that have expired at `now`,
 * BigQuery's partition expiration (src/warehouse/retention.ts): day D goes once D 00:00 UTC + `days`
 * has passed, so exactly `days` days stay, today included (3 days at 2026-11-05T10:00Z: 2026-11-03 …
 * 2026-11-05). Returns the days removed.
 */
export async function dropOldPartitions(root: string, days: number = DEFAULT_RETENTION_DAYS, now: number = Date.now()): Promise<string[]> {
  const keptFrom = firstKeptDay(now, days)
  const dropped = new Set<string>()
  for (const base of [EVENTS_DIR, ...STREAM_DIRS]) {
    for (const name of await dirNames(join(root, base))) {
      const dt = parseDtDir(name)
      if (dt === null || dt >= keptFrom) continue
      await removeDir(join(root, base, name))
      dropped.add(dt)
    }
  }
  return [...dropped].sort()
}
