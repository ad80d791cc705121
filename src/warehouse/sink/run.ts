import type { EventLog } from '../../log/event-log.ts'
import { WarehouseSink, type WarehouseSinkOptions, type WarehouseSinkStats } from './sink.ts'

export interface RunningSink {
  /** Stops polling, flushes what was read, commits, and closes DuckDB. */
  stop(): Promise<void>
  /** Reads every partition up to the log's current end, then flushes and commits it all. */
  flushNow(): Promise<void>
  stats(): WarehouseSinkStats
}

/**
 * Starts the sink in the background: poll every partition, flush a partition when it holds
 * `flushRows` rows, and flush everything every `flushIntervalMs`. An error stops the loop (the next
 * start replays from the committed offsets); it is logged and shown in stats().lastError.
 */
export async function startWarehouseSink(log: EventLog, root: string, options: Partial<WarehouseSinkOptions> = {}): Promise<RunningSink> {
  const sink = new WarehouseSink(log, root, options)
  await sink.open()
  const { flushIntervalMs, pollWaitMs, logger } = sink.options
  let running = true
  let wake: (() => void) | null = null
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
  const loop = (async () => {
    let lastFlush = Date.now()
    try {
      while (running) {
        const n = await sink.poll()
        if (Date.now() - lastFlush >= flushIntervalMs) {
          lastFlush = Date.now()
          await sink.flush()
        }
        if (n === 0 && running) await sleep(Math.min(pollWaitMs, Math.max(1, flushIntervalMs - (Date.now() - lastFlush))))
      }
    } catch (err) {
      sink.noteError(err)
      logger?.error({ err }, 'warehouse sink stopped')
      running = false
    }
  })()
  return {
    async stop() {
      running = false
      wake?.()
      await loop
      try {
        await sink.flush()
      } finally {
        await sink.close()
      }
    },
    async flushNow() {
      while (await sink.behind()) await sink.poll()
      await sink.flush()
    },
    stats: () => sink.stats(),
  }
}

export interface SinkRunResult extends WarehouseSinkStats {
  ms: number
}

/**
 * Copies the events topic up to its current end into the warehouse, flushing every `flushRows`
 * rows of a partition and at the end, and returns the counts (for `tagstream warehouse sync`).
 */
export async function runSinkOnce(log: EventLog, root: string, options: Partial<WarehouseSinkOptions> = {}): Promise<SinkRunResult> {
  const started = performance.now()
  const sink = new WarehouseSink(log, root, options)
  await sink.open()
  try {
    while (await sink.behind()) await sink.poll()
    await sink.flush()
    return { ...sink.stats(), ms: performance.now() - started }
  } finally {
    await sink.close()
  }
}
