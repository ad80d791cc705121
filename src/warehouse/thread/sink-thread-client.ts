import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { threadScript } from '../../engine/thread/bundle.ts'
import type { SinkThreadData } from './sink-thread.ts'

const here = dirname(fileURLToPath(import.meta.url))

/** Starts the warehouse sink in its own thread; resolves once it has opened the log. */
export async function startSinkThread(data: SinkThreadData): Promise<{ stop(): Promise<void> }> {
  const worker = new Worker(threadScript(join(here, 'sink-thread.ts'), 'sink-thread'), { workerData: data })
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve())
    worker.once('error', reject)
    worker.once('exit', (code) => reject(new Error(`warehouse sink thread exited with code ${code}`)))
  })
  let stopping: Promise<void> | null = null
  return {
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
