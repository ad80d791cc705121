import type { EventLog } from '../../log/event-log.ts'
import type { Logger } from '../../logger.ts'
import { DT_PREFIX, EVENTS_DIR, STREAM_DIRS, dtOf, parseDtDir } from '../layout.ts'
import { compactDay, dropOldPartitions } from './compaction.ts'
import { compactLive } from './live-compaction.ts'
import { dirNames } from './files.ts'
import { WarehouseSink, type WarehouseSinkOptions, type WarehouseSinkStats } from './sink.ts'
import type { EraseRowsResult, WarehouseErase } from './erase-rows.ts'
import { eventsTopic, identitiesTopic, notificationsTopic, segmentChangesTopic, type SinkTopic } from './topics.ts'

/**
 * The running sink's flushRows (a one-off sync keeps DEFAULT_SINK_OPTIONS' 200,000): under a burst
 * a partition's rows become files while the burst arrives rather than all at its end. Measured with
 * the e2e benchmark (1M events over HTTP): the last row queryable 0.5–1.4 s sooner (4.3–4.5 s
 * instead of 4.9–5.7 s), acknowledgements within the noise.
 */
export const LIVE_FLUSH_ROWS = 50_000

/**
 * A burst that leaves this many rows pending is flushed once the log has had nothing new for
 * BIG_BURST_QUIET_MS instead of quietFlushMs: its files are not small whatever follows, so its last
 * rows need not wait for proof that it ended. Smaller remainders keep quietFlushMs, so traffic with
 * short pauses does not make a file at every pause. Measured with the e2e benchmark: the last row
 * 0.3–0.4 s sooner.
 */
export const BIG_BURST_ROWS = 10_000
export const BIG_BURST_QUIET_MS = 100

export interface RunningSink {
  /** Stops polling, flushes what was read, commits, and closes DuckDB. */
  stop(): Promise<void>
  /** Reads every partition up to the log's current end, then flushes and commits it all. */
  flushNow(): Promise<void>
  /** The events' figures, and each output stream's under `streams`. */
  stats(): WarehouseStats
  /**
   * Removes an erased person's rows from every file (docs/privacy.md), between the loop's steps:
   * no flush or merge touches the files meanwhile.
   */
  erase(e: WarehouseErase): Promise<EraseRowsResult>
}

export interface WarehouseStats extends WarehouseSinkStats {
  streams: Record<string, WarehouseSinkStats>
}

/** What the warehouse copies by default: the events, then the engine's output streams. */
export function warehouseTopics(): SinkTopic[] {
  return [eventsTopic(), segmentChangesTopic(), notificationsTopic(), identitiesTopic()]
}

/**
 * One sink per topic (the events and the output streams, or just `options.topic`). The output
 * streams are small beside the events, so their DuckDB gets one thread.
 */
async function openSinks(log: EventLog, root: string, options: Partial<WarehouseSinkOptions>): Promise<WarehouseSink[]> {
  const topics = options.topic ? [options.topic] : warehouseTopics()
  const sinks: WarehouseSink[] = []
  try {
    for (const [i, topic] of topics.entries()) {
      const own: Partial<WarehouseSinkOptions> = { ...options, topic }
      if (i > 0) {
        own.threads = 1
        delete own.group
      }
      const sink = new WarehouseSink(log, root, own)
      sinks.push(sink)
      await sink.open()
    }
  } catch (err) {
    // The running sink opens them again after a failure: none may be left open by a failed try.
    for (const sink of sinks) await sink.close().catch(() => undefined)
    throw err
  }
  return sinks
}

/** The counts that add up across a running sink's restarts (the rest are the current sink's). */
const SUMMED = ['rowsWritten', 'filesWritten', 'flushes', 'typeConflicts', 'poisonRecords', 'recoveredFiles'] as const

/** A sink's stats with the counts of the sinks it replaced after failures (`before`, same topic) added. */
function withEarlier(now: WarehouseSinkStats, before: readonly WarehouseSinkStats[]): WarehouseSinkStats {
  const out = { ...now }
  for (const b of before) for (const k of SUMMED) out[k] += b[k]
  return out
}

function statsOf(sinks: readonly WarehouseSink[], earlier: ReadonlyArray<readonly WarehouseSinkStats[]> = []): WarehouseStats {
  const all = sinks.map((s, i) =>
    withEarlier(
      s.stats(),
      earlier.map((gen) => gen[i]!),
    ),
  )
  const [first, ...rest] = all
  return { ...first!, streams: Object.fromEntries(rest.map((st, i) => [sinks[i + 1]!.topic.topic, st])) }
}

/** The running sink's first wait after a failure; it doubles with each failure in a row, up to RESTART_MAX_MS. */
export const RESTART_MIN_MS = 1_000
export const RESTART_MAX_MS = 30_000

/**
 * Starts the sinks in the background: poll every partition, flush a partition when it holds
 * `flushRows` rows, and flush everything every `flushIntervalMs`, or sooner once nothing new has
 * arrived for `quietFlushMs`. A failure (a full disk, a removed directory) is logged and shown in
 * stats().lastError, and the sinks start again after a pause, as a restarted process would: closed,
 * opened (recovery from the committed offsets), reading on from there. Until then a server kept
 * taking events with its warehouse stopped for good.
 */
export async function startWarehouseSink(log: EventLog, root: string, options: Partial<WarehouseSinkOptions> = {}): Promise<RunningSink> {
  const openOptions: Partial<WarehouseSinkOptions> = { flushRows: LIVE_FLUSH_ROWS, ...options }
  let sinks = await openSinks(log, root, openOptions)
  /** The final stats of the sinks each restart replaced, so counts never go back (/metrics, tests). */
  const earlier: WarehouseSinkStats[][] = []
  /** False after a failure until the sinks are open again (stop() then has nothing to flush). */
  let open = true
  const { flushIntervalMs, quietFlushMs, pollWaitMs, logger, retentionDays, maintenanceIntervalMs, liveCompaction, threads, onFilesChanged } = sinks[0]!.options
  const filesWritten = (): number => {
    const st = statsOf(sinks, earlier)
    return Object.values(st.streams).reduce((n, stream) => n + stream.filesWritten, st.filesWritten)
  }
  // Files written when onFilesChanged was last called. A flush cut at flushRows (inside poll, in the
  // middle of a burst) is told at the burst's quiet or timed flush, not at once: views rebuilt at
  // every cut cost the e2e benchmark's acknowledgements 15–25 % (a rebuild and a sessions update
  // every few hundred ms, on the cores the collector and engine need).
  let told = filesWritten()
  const tell = (changed: boolean): void => {
    const now = filesWritten()
    if (!changed && now === told) return
    told = now
    onFilesChanged?.()
  }
  let running = true
  let wake: (() => void) | null = null
  // The loop's steps and flushNow() take turns: a merge pass sweeps every temp file in the
  // directories it visits, so it must never run while a flush has its files under temp names.
  let turn: Promise<unknown> = Promise.resolve()
  const exclusive = <T>(step: () => Promise<T>): Promise<T> => {
    const next = turn.then(step)
    turn = next.catch(() => undefined)
    return next
  }
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        wake = null
        resolve()
      }, ms)
      wake = () => {
        clearTimeout(t)
        wake = null
        resolve()
      }
    })
  /** Failures since the last timed or quiet flush: the pause before starting again doubles with each. */
  let failures = 0
  /** The loop until stopped or a failure (thrown). */
  const steps = async (): Promise<void> => {
    let lastFlush = Date.now()
    /** When a poll last found records, and whether any were read since the last flush. */
    let lastRead = 0
    let unflushed = false
    let lastMaintenance = 0
    let lastLive = Date.now()
    while (running) {
      let changed = false
      let timed = false
      const n = await exclusive(async () => {
        // Between flushes, so every file it sees is committed (compactDay's rule).
        if (Date.now() - lastMaintenance >= maintenanceIntervalMs) {
          lastMaintenance = Date.now()
          const done = await maintain(root, retentionDays, logger, liveCompaction?.graceMs ?? 0, threads)
          changed = done.dropped.length + done.compacted.length > 0
        }
        if (liveCompaction !== null && Date.now() - lastLive >= liveCompaction.intervalMs) {
          lastLive = Date.now()
          const merged = await compactLive(root, { policy: liveCompaction, logger, threads })
          changed ||= merged.filesWritten + merged.filesRemoved > 0
        }
        let read = 0
        for (const sink of sinks) read += await sink.poll()
        if (read > 0) {
          lastRead = Date.now()
          unflushed = true
        }
        const pending = unflushed ? sinks.reduce((n, sink) => n + sink.pendingRows, 0) : 0
        const quiet = read === 0 && unflushed && Date.now() - lastRead >= (pending >= BIG_BURST_ROWS ? Math.min(quietFlushMs, BIG_BURST_QUIET_MS) : quietFlushMs)
        if (quiet || Date.now() - lastFlush >= flushIntervalMs) {
          lastFlush = Date.now()
          unflushed = false
          timed = true
          logger?.debug({ quiet, pending }, 'warehouse sink: flushing')
          // Told after each topic: the events' rows are queryable without waiting for the output
          // streams' files (DuckDB writes those, about 0.1–0.2 s at the end of the e2e benchmark).
          for (const sink of sinks) {
            await sink.flush()
            tell(false)
          }
        }
        return read
      })
      if (changed || timed) tell(changed)
      if (timed) failures = 0
      if (n === 0 && running) await sleep(Math.min(pollWaitMs, Math.max(1, flushIntervalMs - (Date.now() - lastFlush))))
    }
  }
  const loop = (async () => {
    let failure: unknown = null
    while (running) {
      try {
        if (failure !== null) {
          await exclusive(async () => {
            for (const sink of sinks) await sink.close().catch(() => undefined)
            const final = sinks.map((sink) => sink.stats())
            sinks = await openSinks(log, root, openOptions)
            earlier.push(final)
            open = true
            for (const sink of sinks) sink.noteError(failure)
          })
          logger?.info({ failures }, 'warehouse sink started again from the committed offsets')
        }
        await steps()
      } catch (err) {
        failure = err
        open = false
        failures++
        for (const sink of sinks) sink.noteError(err)
        const retryMs = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** Math.min(failures - 1, 10))
        logger?.error({ err, retryMs, failures }, 'warehouse sink failed; it starts again from the committed offsets after a pause')
        if (running) await sleep(retryMs)
      }
    }
  })()
  return {
    async stop() {
      running = false
      wake?.()
      await loop
      await exclusive(async () => {
        try {
          if (open) for (const sink of sinks) await sink.flush()
        } finally {
          for (const sink of sinks) await sink.close()
        }
      })
    },
    flushNow() {
      return exclusive(async () => {
        for (const sink of sinks) {
          while (await sink.behind()) await sink.poll()
          await sink.flush()
        }
        tell(false)
      })
    },
    stats: () => statsOf(sinks, earlier),
    async erase(e) {
      const done = await exclusive(() => sinks[0]!.erase(e))
      tell(true)
      return done
    },
  }
}

/**
 * Drops days beyond retention, then compacts every finished day (before today, UTC) into one file
 * per event (or stream) and partition. Runs between flushes, in the sink's own loop: see compactDay.
 */
export async function maintain(root: string, retentionDays: number, logger?: Logger, graceMs = 0, threads?: number): Promise<{ dropped: string[]; compacted: string[] }> {
  // A day is removed graceMs after it expired: the views stopped listing it then
  // (src/warehouse/query/views.ts, inventory), and a query planned just before may still be reading it.
  const dropped = await dropOldPartitions(root, retentionDays, Date.now() - graceMs)
  if (dropped.length > 0) logger?.info({ dropped, retentionDays }, 'warehouse retention: days dropped')
  const today = dtOf(Date.now())
  const days = new Set<string>()
  for (const base of [EVENTS_DIR, ...STREAM_DIRS]) {
    for (const name of await dirNames(`${root}/${base}`)) {
      const dt = name.startsWith(DT_PREFIX) ? parseDtDir(name) : null
      if (dt !== null && dt < today) days.add(dt)
    }
  }
  const compacted: string[] = []
  for (const dt of [...days].sort()) {
    const r = await compactDay(root, dt, { graceMs, logger, threads })
    if (r.filesWritten > 0) compacted.push(dt)
  }
  return { dropped, compacted }
}

export interface SinkRunResult extends WarehouseStats {
  ms: number
}

/**
 * Copies every topic up to its current end into the warehouse, flushing every `flushRows` rows of a
 * partition and at the end, and returns the counts (for `tagstream warehouse sync`).
 */
export async function runSinkOnce(log: EventLog, root: string, options: Partial<WarehouseSinkOptions> = {}): Promise<SinkRunResult> {
  const started = performance.now()
  const sinks = await openSinks(log, root, options)
  try {
    for (const sink of sinks) {
      while (await sink.behind()) await sink.poll()
      await sink.flush()
    }
    return { ...statsOf(sinks), ms: performance.now() - started }
  } finally {
    for (const sink of sinks) await sink.close()
  }
}
