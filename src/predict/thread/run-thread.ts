import { parentPort, workerData } from 'node:worker_threads'
import { openEventLog } from '../../log/open-log.ts'
import { defaultEventsFormat } from '../../log/default-events-format.ts'
import { CallGate, RunStopped, STOPPED } from '../call-gate.ts'
import { predictRun, RunBusyError } from '../run.ts'
import type { PredictOptions } from '../predict-options.ts'
import type { RunKind } from '../run-store.ts'

/** What the server hands a prediction thread (./run-thread-client.ts). */
export interface RunThreadData {
  dataDir: string
  logUrl: string
  partitions: number
  kind: RunKind
  asOfMs?: number
  options?: Partial<PredictOptions>
  /** The run's gate (../call-gate.ts), shared with the server that may terminate this thread. */
  gate: SharedArrayBuffer
}

/** What the server may tell the thread: stop the run (a server closing). */
export interface RunThreadStop {
  type: 'stop'
}

/** What the thread answers: progress lines, then the record, or who holds the run lock. */
export type RunThreadMessage =
  | { type: 'progress'; stage: string; done: number; total: number }
  | { type: 'done'; record: Awaited<ReturnType<typeof predictRun>> }
  | { type: 'busy'; heldBy: string }
  | { type: 'error'; message: string }

/*
 * A prediction run in a worker thread of `serve` (docs/predictions.md, "Schedule"): fitting the
 * models and scoring a million users is seconds of JavaScript that would otherwise stall the HTTP
 * API. The thread opens the event log itself, as the warehouse sink's thread does.
 */
const data = workerData as RunThreadData
const post = (m: RunThreadMessage) => parentPort?.postMessage(m)
// A stop interrupts the run's DuckDB query and the run ends by itself (run.ts, RunRequest.signal).
const stop = new AbortController()
parentPort?.on('message', (m: RunThreadStop) => {
  if (m.type === 'stop') stop.abort(new RunStopped(STOPPED))
})
// Listening must not keep the thread alive once its run has ended.
parentPort?.unref()

async function main(): Promise<void> {
  const kind = data.kind
  // Opening and closing the log pass the gate too: the thread is never ended inside either.
  const gate = new CallGate(data.gate)
  const { log, partitions } = kind === 'train' ? { log: null, partitions: data.partitions } : await gate.pass(() => openEventLog(data.logUrl, { partitions: data.partitions }))
  try {
    const record = await predictRun({
      dataDir: data.dataDir,
      kind,
      ...(data.asOfMs === undefined ? {} : { asOfMs: data.asOfMs }),
      ...(data.options === undefined ? {} : { options: data.options }),
      ...(log === null ? {} : { log: { log, partitions, format: defaultEventsFormat(data.logUrl) } }),
      signal: stop.signal,
      gate,
      onProgress: (stage, done, total) => post({ type: 'progress', stage, done, total }),
    })
    post({ type: 'done', record })
  } catch (err) {
    if (err instanceof RunBusyError) post({ type: 'busy', heldBy: err.heldBy })
    else post({ type: 'error', message: err instanceof Error ? err.message : String(err) })
  } finally {
    if (log !== null) await gate.pass(() => log.close())
  }
}

void main()
