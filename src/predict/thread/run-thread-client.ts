import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { threadScript } from '../../thread-script.ts'
import { CallGate, STOPPED } from '../call-gate.ts'
import { RunBusyError } from '../run.ts'
import { RunStore, type RunRecord } from '../run-store.ts'
import type { RunThreadData, RunThreadMessage, RunThreadStop } from './run-thread.ts'

const here = dirname(fileURLToPath(import.meta.url))

/** A prediction run going in its own thread: its record when done, and a way to stop it. */
export interface ThreadRun {
  readonly done: Promise<RunRecord>
  /** Stops the run (a server closing) and waits for its thread to end; the run is recorded as failed, `stopped: …`. */
  stop(): Promise<void>
}

/**
 * How long a stopped run may take to end by itself (its DuckDB query interrupted, its record
 * written, the event log closed) before its thread is terminated: a model being fitted cannot be
 * interrupted and takes seconds for a large tenant. The termination waits for the run's gate
 * (../call-gate.ts): never inside a DuckDB call or an append.
 */
const STOP_GRACE_MS = 1_000
/** How often a stop looks again whether the run's gate can be closed (a native call is ending). */
const GATE_POLL_MS = 20

/**
 * Starts a prediction run in a worker thread. `done` rejects with RunBusyError when another run
 * holds the lock, and with an Error when the thread failed before it could record the run.
 */
export function runInThread(data: Omit<RunThreadData, 'gate'>, onProgress?: (stage: string, done: number, total: number) => void): ThreadRun {
  const gate = new CallGate()
  const workerData: RunThreadData = { ...data, gate: gate.memory }
  const worker = new Worker(threadScript(join(here, 'run-thread.ts'), 'predict-thread'), { workerData })
  let settled = false
  let stopping = false
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
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
      const why = stopping ? STOPPED : `the prediction thread exited with code ${code} before recording its run`
      new RunStore(data.dataDir).recover(why)
      reject(new Error(why))
    })
  })
  return {
    done,
    async stop() {
      stopping = true
      const m: RunThreadStop = { type: 'stop' }
      worker.postMessage(m)
      let timer: NodeJS.Timeout | undefined
      const grace = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), STOP_GRACE_MS)))
      const ended = await Promise.race([exited, grace])
      clearTimeout(timer)
      if (ended !== 'late') return
      // The stop interrupts a DuckDB query at once: the gate closes as soon as the call returns.
      while (!gate.close()) await new Promise((resolve) => setTimeout(resolve, GATE_POLL_MS))
      await worker.terminate()
    },
  }
}
