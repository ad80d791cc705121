import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { threadScript } from '../../thread-script.ts'
import { RunBusyError } from '../run.ts'
import { RunStore, type RunRecord } from '../run-store.ts'
import type { RunThreadData, RunThreadMessage } from './run-thread.ts'

const here = dirname(fileURLToPath(import.meta.url))

/** A prediction run going in its own thread: its record when done, and a way to stop it. */
export interface ThreadRun {
  readonly done: Promise<RunRecord>
  /** Ends the thread (a server closing); the run's record then reads `abandoned` once the process is gone. */
  stop(): Promise<void>
}

/**
 * Starts a prediction run in a worker thread. `done` rejects with RunBusyError when another run
 * holds the lock, and with an Error when the thread failed before it could record the run.
 */
export function runInThread(data: RunThreadData, onProgress?: (stage: string, done: number, total: number) => void): ThreadRun {
  const worker = new Worker(threadScript(join(here, 'run-thread.ts'), 'predict-thread'), { workerData: data })
  let settled = false
  const done = new Promise<RunRecord>((resolve, reject) => {
    worker.on('message', (m: RunThreadMessage) => {
      if (m.type === 'progress') onProgress?.(m.stage, m.done, m.total)
      else {
        settled = true
        if (m.type === 'done') resolve(m.record)
        else if (m.type === 'busy') reject(new RunBusyError(m.heldBy))
        else reject(new Error(m.message))
      }
    })
    worker.once('error', (err) => {
      settled = true
      reject(err)
    })
    worker.once('exit', (code) => {
      if (settled) return
      const why = `the prediction thread exited with code ${code} before recording its run`
      new RunStore(data.dataDir).recover(why)
      reject(new Error(why))
    })
  })
  return {
    done,
    async stop() {
      await worker.terminate()
    },
  }
}
