import { join } from 'node:path'
import type { Logger } from '../../logger.ts'
import { DT_PREFIX, EVENTS_DIR, STREAM_DIRS, TMP_EXT, dayDir, dtOf, parseDtDir, parseEventDir, parsePartFileName, partFileName, type PartRange } from '../layout.ts'
import { dirNames, fileNames, publish, removeDir, removeFiles } from './files.ts'
import { ParquetWriter } from './parquet-writer.ts'
import { literal } from './sql.ts'

export interface CompactionResult {
  /** Files merged away (the inputs of a merge), plus redundant leftovers removed. */
  filesRemoved: number
  filesWritten: number
}

/**
 * Merges a day's part files: per event and partition, all files become one
 * `part-<p>-<min first>-<max last>.parquet` holding their rows in offset order. The merged file is
 * written under a temp name and renamed into place, then the inputs are removed; a file whose range
 * lies inside another file's range (a merge interrupted between the rename and the removals) is
 * redundant and removed first. A reader sees each row once except in the moment between the
 * rename and the removals, and a query can drop that overlap by (partition, "offset").
 * Run it on days the sink has stopped writing (yesterday and older), or from the sink's own process
 * between flushes: a sink restarting while a merge of its uncommitted files runs could trim a file
 * the merge is reading.
 */
export async function compactDay(root: string, dt: string, options: { logger?: Logger; minFiles?: number } = {}): Promise<CompactionResult> {
  const minFiles = options.minFiles ?? 2
  const result: CompactionResult = { filesRemoved: 0, filesWritten: 0 }
  // Events have a directory per event under the day; the output streams keep the day's files in it.
  const dirs: string[] = []
  const day = dayDir(root, dt)
  for (const eventName of await dirNames(day)) if (parseEventDir(eventName) !== null) dirs.push(join(day, eventName))
  for (const stream of STREAM_DIRS) dirs.push(join(root, stream, `${DT_PREFIX}${dt}`))
  const writer = await ParquetWriter.open()
  try {
    for (const dir of dirs) await compactDir(writer, dir, minFiles, result)
  } finally {
    writer.close()
  }
  if (result.filesWritten + result.filesRemoved > 0) options.logger?.info({ dt, ...result }, 'warehouse day compacted')
  return result
}

async function compactDir(writer: ParquetWriter, dir: string, minFiles: number, result: CompactionResult): Promise<void> {
  const names = await fileNames(dir)
  await removeFiles(names.filter((n) => n.endsWith(TMP_EXT)).map((n) => join(dir, n)))
  const byPartition = new Map<number, Array<PartRange & { name: string }>>()
  for (const name of names) {
    const r = parsePartFileName(name)
    if (!r) continue
    let list = byPartition.get(r.partition)
    if (!list) byPartition.set(r.partition, (list = []))
    list.push({ ...r, name })
  }
  for (const [partition, all] of byPartition) {
    const files = dropContained(all)
    const redundant = all.filter((f) => !files.includes(f))
    await removeFiles(redundant.map((f) => join(dir, f.name)))
    result.filesRemoved += redundant.length
    if (files.length < minFiles) continue
    const first = Math.min(...files.map((f) => f.first))
    const last = Math.max(...files.map((f) => f.last))
    const path = join(dir, partFileName(partition, first, last))
    const tmp = path + TMP_EXT
    const list = files.map((f) => literal(join(dir, f.name))).join(', ')
    await writer.run(
      `COPY (SELECT * FROM read_parquet([${list}], hive_partitioning = false, union_by_name = true) ORDER BY "offset") TO ${literal(tmp)} (FORMAT parquet)`,
    )
    await publish([{ tmp, path, dir }])
    await removeFiles(files.filter((f) => f.name !== partFileName(partition, first, last)).map((f) => join(dir, f.name)))
    result.filesRemoved += files.length
    result.filesWritten++
  }
}

/** Files not lying inside another file's range (an equal range counts once). */
function dropContained<T extends PartRange>(files: readonly T[]): T[] {
  const sorted = [...files].sort((a, b) => a.first - b.first || b.last - a.last)
  const kept: T[] = []
  let reach = -1
  for (const f of sorted) {
    if (f.last <= reach) continue
    kept.push(f)
    reach = f.last
  }
  return kept
}

export const DEFAULT_RETENTION_DAYS = 3

/**
 * Removes `dt=` directories (events and output streams) of days before `now − days` (UTC dates): with 3 days on 2026-11-05 the
 * days 2026-11-02 … 2026-11-05 stay. Returns the days removed.
 */
export async function dropOldPartitions(root: string, days: number = DEFAULT_RETENTION_DAYS, now: number = Date.now()): Promise<string[]> {
  const cutoff = dtOf(now - days * 86_400_000)
  const dropped = new Set<string>()
  for (const base of [EVENTS_DIR, ...STREAM_DIRS]) {
    for (const name of await dirNames(join(root, base))) {
      const dt = parseDtDir(name)
      if (dt === null || dt >= cutoff) continue
      await removeDir(join(root, base, name))
      dropped.add(dt)
    }
  }
  return [...dropped].sort()
}
