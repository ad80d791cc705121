import { parentPort, workerData } from 'node:worker_threads'
import type { DeadLetter } from '../../ingest/dead-letters.ts'
import { openEventLog } from '../../log/open-log.ts'
import { createLogger } from '../../logger.ts'
import { openStateStore } from '../../state/open-state.ts'
import { engineOptions } from '../engine-options.ts'
import { EngineRunner } from '../engine-runner.ts'
import { DEFAULT_WORKER_OPTIONS } from '../partition-worker.ts'
import { prepareRules } from '../engine-rules.ts'
import { loadRulesSource } from '../rules-source.ts'
import { EngineQueries } from './engine-queries.ts'
import type { EngineThreadData, EventAppend, FromEngine, SerializedError, ToEngine } from './messages.ts'

/**
 * The engine's own thread in `tagstream serve`: the collector and the engine each get a core. It
 * reads the events log, runs every partition, answers the API's questions, and posts a snapshot of
 * its progress every 100 ms.
 */
const data = workerData as EngineThreadData
const port = parentPort!
const logger = createLogger('engine', data.logLevel)
const post = (msg: FromEngine) => port.postMessage(msg)

function serialize(err: unknown): SerializedError {
  const e = err as Error & { line?: number; column?: number; path?: string; expected?: string }
  return { name: e.name ?? 'Error', message: e.message ?? String(err), line: e.line, column: e.column, path: e.path, expected: e.expected }
}

try {
  const options = engineOptions(data.engine)
  const { log, partitions } = await openEventLog(data.logUrl, { partitions: data.partitions, retentionCheckMs: 0 })
  const store = await openStateStore(data.stateUrl, { logger })
  const definition = loadRulesSource(data.rulesPath)
  const rules = prepareRules(definition, options)
  // The main thread is the events log's writer (one per partition): it appends the clock records.
  const appendClock = (partition: number, time: number) => Promise.resolve(post({ type: 'clock', partition, time }))
  // And of the dead-letters log: the engine's poison records go there the same way.
  const appendDeadLetters = (letters: DeadLetter[]) => Promise.resolve(post({ type: 'dead-letters', letters }))
  // And of identity records to other partitions, which must be durable before the checkpoint
  // that covers them: the main thread answers each append.
  const appends = new Map<number, { resolve: () => void; reject: (err: Error) => void }>()
  let nextAppend = 1
  const appendEvents = (partition: number, records: EventAppend['records']) =>
    new Promise<void>((resolve, reject) => {
      const id = nextAppend++
      appends.set(id, { resolve, reject })
      post({ type: 'append-events', id, partition, records })
    })
  const runner = await EngineRunner.create(
    log,
    store,
    rules,
    options,
    Array.from({ length: partitions }, (_, p) => p),
    { ...data.worker, appendClock, appendDeadLetters, appendEvents },
    logger,
  )
  const queries = new EngineQueries(runner, log, options, definition, store, appendEvents, (data.worker.clockTickMs ?? DEFAULT_WORKER_OPTIONS.clockTickMs) > 0)
  await queries.start()
  if (data.progressLogMs !== undefined) runner.progressLogMs = data.progressLogMs
  runner.start()
  const timer = setInterval(() => void queries.snapshot().then((snapshot) => post({ type: 'snapshot', snapshot })), data.snapshotIntervalMs)
  post({ type: 'snapshot', snapshot: await queries.snapshot() })
  port.on('message', (msg: ToEngine) => {
    if (msg.type === 'appended') {
      const waiting = appends.get(msg.id)
      appends.delete(msg.id)
      if (msg.error === null) waiting?.resolve()
      else waiting?.reject(new Error(`records not appended to the events log: ${msg.error}`))
      return
    }
    if (msg.type === 'stop') {
      clearInterval(timer)
      void (async () => {
        await runner.stop()
        await store.close()
        await log.close()
        post({ type: 'stopped' })
        port.close()
      })().catch((err: unknown) => post({ type: 'fatal', error: serialize(err) }))
      return
    }
    queries
      .handle(msg)
      .then((result) => post({ type: 'response', id: msg.id, ok: true, result }))
      .catch((err: unknown) => post({ type: 'response', id: msg.id, ok: false, error: serialize(err) }))
  })
} catch (err) {
  logger.error({ err }, 'engine failed to start')
  post({ type: 'fatal', error: serialize(err) })
}
