import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../../logger.ts'
import { DT_PREFIX, EVENTS_DIR, STREAM_DIRS, parseDtDir } from '../layout.ts'
import { byPartition, dayDirs, mergeRun, sweep, type CompactionResult, type PartStat } from './compaction.ts'
import { ParquetWriter } from './parquet-writer.ts'

/*
 * Compaction while the sink writes (docs/warehouse-sink.md, "Compaction"). The sink writes a file per
 * (day, event, partition) at every flush (every 5 s), so without merging a busy server gathers
 * tens of thousands of files an hour and every query reads them all. This keeps the number of files
 * of each (day, event, partition) bounded whatever the uptime and the rate, with little rewriting:
 *
 * - Files written in the current UTC hour are merged by size tiers: once `tierFiles` consecutive
 *   files are of one size tier (sizes within `tierFactor` of each other; everything below
 *   `tierFloorBytes` is the lowest tier), they become one file of the next tier. A row is rewritten
 *   about log_tierFactor(bytes an hour / floor) times, plus a few times while below the floor, and
 *   the hour holds fewer than `tierFiles` files per tier after a pass; beyond `maxCurrentFiles`
 *   (sizes that defeat the tiers) the hour's files are merged into one.
 * - Files from earlier hours are kept as at most two: a base and a tail. When an hour ends its files
 *   join the tail; the tail is merged into the base once it has grown to half the base, so the base
 *   is rewritten only each time it grows by half (a logarithmic number of times a day).
 *
 * So outside the current hour a (day, event, partition) has at most 2 files; inside it, a few per tier.
 * A file's age is when its newest row was written (mergeRun keeps the inputs' newest time).
 */

export interface LiveCompactionPolicy {
  /** How often the sink runs a pass. */
  intervalMs: number
  /** How long merge inputs stay for queries planned before the merge (longer than a query can run). */
  graceMs: number
  /** Files of one size tier the current hour gathers before they are merged into one. */
  tierFiles: number
  /** Sizes within this factor of each other are one tier. */
  tierFactor: number
  /** Files up to this size are all the lowest tier (fresh files vary in size from flush to flush). */
  tierFloorBytes: number
  /** More current-hour files than this are all merged into one, whatever their tiers. */
  maxCurrentFiles: number
  hourMs: number
}

/**
 * Defaults: a pass every 30 s; inputs kept 60 s (a query may run 10 s, plus 1 s before it is
 * abandoned, over views up to 5 s old (the query views' staleMs): 60 s leaves a wide margin); 4 files a tier; tiers of 4×
 * above 256 KiB; at most 32 files in the current hour. Every query pays for every live file (its
 * schema is read to bind the views, then it is opened), so the tiers hold 4 files, not 8: simulated
 * over an hour of 23 KB flushes (a soak group at 10,000 events/s), 7.2 files on average in the
 * hour's second half instead of 10.6, each byte rewritten 5.3 times instead of 3.0.
 */
export const LIVE_COMPACTION: LiveCompactionPolicy = {
  intervalMs: 30_000,
  graceMs: 60_000,
  tierFiles: 4,
  tierFactor: 4,
  tierFloorBytes: 256 * 1024,
  maxCurrentFiles: 32,
  hourMs: 3_600_000,
}

/** Runs of one partition's live files (offset order) to merge now, by the policy above. */
export function runsToMerge(files: readonly PartStat[], now: number, policy: LiveCompactionPolicy): PartStat[][] {
  const hourStart = Math.floor(now / policy.hourMs) * policy.hourMs
  let split = 0
  while (split < files.length && files[split]!.writtenMs < hourStart) split++
  const past = files.slice(0, split)
  const current = files.slice(split)
  const runs: PartStat[][] = []
  if (past.length >= 2) {
    const tail = past.slice(1)
    const tailBytes = tail.reduce((n, f) => n + f.bytes, 0)
    if (tailBytes * 2 >= past[0]!.bytes) runs.push(past)
    else if (tail.length >= 2) runs.push(tail)
  }
  if (current.length > policy.maxCurrentFiles) runs.push(current)
  else {
    // Consecutive files of one tier, oldest first; each run of `tierFiles` or more becomes one
    // file of a higher tier. Older files are larger (merged before), so the tiers fall towards the
    // newest files, and every tier is bounded, not only the lowest one.
    const tier = (f: PartStat) => Math.floor(Math.log(Math.max(f.bytes, policy.tierFloorBytes) / policy.tierFloorBytes) / Math.log(policy.tierFactor))
    let start = 0
    for (let i = 1; i <= current.length; i++) {
      if (i < current.length && tier(current[i]!) === tier(current[start]!)) continue
      if (i - start >= policy.tierFiles) runs.push(current.slice(start, i))
      start = i
    }
  }
  return runs
}

/** Every day under the root that has event or stream files. */
async function days(root: string): Promise<string[]> {
  const out = new Set<string>()
  for (const base of [EVENTS_DIR, ...STREAM_DIRS]) {
    let names: string[]
    try {
      names = await readdir(join(root, base))
    } catch {
      continue
    }
    for (const name of names) {
      const dt = name.startsWith(DT_PREFIX) ? parseDtDir(name) : null
      if (dt !== null) out.add(dt)
    }
  }
  return [...out].sort()
}

/** One pass over every day: sweep superseded files past their grace, merge what the policy says. */
export async function compactLive(root: string, options: { now?: number; policy?: LiveCompactionPolicy; logger?: Logger; threads?: number } = {}): Promise<CompactionResult> {
  const now = options.now ?? Date.now()
  const policy = options.policy ?? LIVE_COMPACTION
  const result: CompactionResult = { filesRemoved: 0, filesWritten: 0 }
  let writer: ParquetWriter | null = null
  try {
    for (const dt of await days(root)) {
      for (const dir of await dayDirs(root, dt)) {
        const live = await sweep(dir, { graceMs: policy.graceMs, now }, result)
        for (const files of byPartition(live)) {
          for (const run of runsToMerge(files, now, policy)) {
            writer ??= await ParquetWriter.open({ threads: options.threads })
            await mergeRun(writer, dir, run, result)
          }
        }
      }
    }
  } finally {
    writer?.close()
  }
  if (result.filesWritten + result.filesRemoved > 0) options.logger?.debug({ ...result }, 'warehouse live compaction pass')
  return result
}
