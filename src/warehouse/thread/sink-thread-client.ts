import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { threadScript } from '../../thread-script.ts'
import type { DeadLetter } from '../../ingest/dead-letters.ts'
import { addSinkCounts, type SinkCounts } from './sink-counts.ts'
import type { SinkThreadData } from './sink-thread.ts'
import type { EraseRowsResult, WarehouseErase } from '../sink/erase-rows.ts'

const here = dirname(fileURLToPath(import.meta.url))

/** The sink thread, seen from the server. */
export interface SinkThread {
  /** Removes an erased person's rows from the warehouse's files (docs/privacy.md). */
  erase(e: WarehouseErase): Promise<EraseRowsResult>
  stop(): Promise<void>
}

/**
 * Starts the warehouse sink in its own thread; resolves once it has dropped the days whose partition
 * expiration has passed (src/warehouse/retention.ts) and opened the log. On an embedded
 * log the sink's dead letters (poison records, docs/warehouse-sink.md) come to `onDeadLetters`, for
 * the thread that writes the log's dead letters; without one they are only logged and counted.
 * Its poison and type-conflict counts are added to the process's (./sink-counts.ts, for /metrics).
 * `onFilesChanged` is told after each flush or merge pass that changed the warehouse's files.
 */
export async function startSinkThread(data: SinkThreadData, onDeadLetters?: (letters: DeadLetter[]) => void, onFilesChanged?: () => void): Promise<SinkThread> {
  // The engine thread's young generation: the sink allocates a copy of every log frame it reads
  // and the column buffers of every file, all short-lived (e2e bench, same hour, two runs each:
  // 101–102K events/s to the last row with the default, 105–118K with this; noisy, kept as cheap).
  const worker = new Worker(threadScript(join(here, 'sink-thread.ts'), 'sink-thread'), { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 96 } })
  let ready = (): void => undefined
  let counts: SinkCounts | null = null
  const erasing = new Map<number, { resolve: (r: EraseRowsResult) => void; reject: (err: Error) => void }>()
  let nextId = 1
  worker.on('message', (msg: { type: string; letters?: DeadLetter[]; counts?: SinkCounts; id?: number; result?: EraseRowsResult; error?: string }) => {
    if (msg.type === 'erased') {
      const waiting = erasing.get(msg.id ?? 0)
      erasing.delete(msg.id ?? 0)
      if (msg.error !== undefined) waiting?.reject(new Error(msg.error))
      else if (msg.result !== undefined) waiting?.resolve(msg.result)
    } else if (msg.type === 'dead-letters' && msg.letters) onDeadLetters?.(msg.letters)
    else if (msg.type === 'files-changed') onFilesChanged?.()
    else if (msg.type === 'counts' && msg.counts) {
      addSinkCounts(msg.counts, counts)
      counts = msg.counts
    } else if (msg.type === 'ready') ready()
  })
  await new Promise<void>((resolve, reject) => {
    ready = resolve
    worker.once('error', reject)
    worker.once('exit', (code) => reject(new Error(`warehouse sink thread exited with code ${code}`)))
  })
  worker.once('exit', () => {
    for (const w of erasing.values()) w.reject(new Error('the warehouse sink thread stopped'))
    erasing.clear()
  })
  let stopping: Promise<void> | null = null
  return {
    erase(e) {
      const id = nextId++
      return new Promise<EraseRowsResult>((resolve, reject) => {
        erasing.set(id, { resolve, reject })
        worker.postMessage({ type: 'erase', id, erase: e })
      })
    },
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        worker.once('exit', () => resolve())
        worker.postMessage({ type: 'stop' })
        // The last flush is idempotent to redo: never let a stuck sink hold the process.
        setTimeout(() => void worker.terminate(), 30_000).unref()
      })
      return stopping
    },
  }
}
