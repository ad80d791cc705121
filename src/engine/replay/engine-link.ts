import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { threadScript } from '../../thread-script.ts'
import type { ReplayResult } from '../replay.ts'
import { ReplayEngine, type ReplayJob } from './engine-side.ts'
import type { FromReader, ToReader } from './thread-messages.ts'

const here = dirname(fileURLToPath(import.meta.url))

/** Batches read but not yet applied: what the reader may run ahead of the engine (about 1 MiB each). */
const BATCHES_AHEAD = 4

/** The reading side's handle on a replay's engine, in a thread of its own or in this one. */
export interface EngineLink {
  /** Hands a batch over (the buffer is moved); resolves once the engine has room for more. */
  send(buffer: ArrayBuffer, length: number): Promise<void>
  /** The result, once every batch is applied and the replay has ended. */
  finish(): Promise<ReplayResult>
  /** Stops the engine's thread (after a failure); a no-op in this thread. */
  close(): Promise<void>
}

/**
 * The engine in a worker thread, so reading and applying each have a core. `onChanges` gets each
 * batch's --changes lines in input order. `youngMb`: the thread's young generation (its events are
 * short-lived objects: a larger one means fewer scavenges, as bin/tagstream.mjs sets for the main thread).
 */
export function threadEngine(job: ReplayJob, onChanges: (text: string) => void, youngMb = 64): EngineLink {
  const worker = new Worker(threadScript(join(here, 'thread.ts'), 'replay-thread'), { workerData: job, resourceLimits: { maxYoungGenerationSizeMb: youngMb } })
  let unanswered = 0
  let failure: Error | null = null
  let wake: (() => void) | null = null
  let result: ((r: ReplayResult) => void) | null = null
  worker.on('message', (m: ToReader) => {
    if (m.changes.length > 0) onChanges(m.changes)
    if (m.type === 'done') unanswered--
    else result?.(m.result)
    wake?.()
  })
  const fail = (err: Error) => {
    failure ??= err
    wake?.()
  }
  worker.once('error', fail)
  worker.once('exit', (code) => fail(new Error(`the replay's engine thread exited with code ${code}`)))
  const waitFor = async (ready: () => boolean) => {
    while (!ready()) {
      if (failure !== null) throw failure
      await new Promise<void>((resolve) => (wake = resolve))
      wake = null
    }
    if (failure !== null) throw failure
  }
  return {
    async send(buffer, length) {
      if (failure !== null) throw failure
      const m: FromReader = { type: 'batch', buffer, length }
      worker.postMessage(m, [buffer])
      unanswered++
      await waitFor(() => unanswered < BATCHES_AHEAD)
    },
    async finish() {
      let got: ReplayResult | null = null
      result = (r) => (got = r)
      const m: FromReader = { type: 'finish' }
      worker.postMessage(m)
      await waitFor(() => got !== null)
      await worker.terminate()
      return got!
    },
    async close() {
      await worker.terminate()
    },
  }
}

/** The engine in this thread: for inputs too small to be worth a thread's start. */
export function inlineEngine(job: ReplayJob, onChanges: (text: string) => void): EngineLink {
  const engine = new ReplayEngine(job)
  const changes = (text: string) => {
    if (text.length > 0) onChanges(text)
  }
  return {
    send(buffer, length) {
      changes(engine.batch(Buffer.from(buffer, 0, length), length))
      return Promise.resolve()
    },
    finish() {
      const { result, changes: last } = engine.finish()
      changes(last)
      return Promise.resolve(result)
    },
    close: () => Promise.resolve(),
  }
}
