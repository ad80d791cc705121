import { parentPort, workerData } from 'node:worker_threads'
import type { DeadLetter } from '../../ingest/dead-letters.ts'
import { isKafkaUrl } from '../../log/kafka/connection-url.ts'
import { openEventLog } from '../../log/open-log.ts'
import { createLogger } from '../../logger.ts'
import { startWarehouseSink } from '../sink/index.ts'

export interface SinkThreadData {
  logUrl: string
  root: string
  logLevel: string
  retentionDays: number
}

/**
 * The warehouse sink in `tagstream serve` has a thread of its own: a flush appends hundreds of
 * thousands of values synchronously, which would stall the engine's (or the collector's) event loop.
 */
const data = workerData as SinkThreadData
const port = parentPort!
const logger = createLogger('warehouse', data.logLevel)
const { log } = await openEventLog(data.logUrl, { retentionCheckMs: 0 })
// Kafka assigns offsets itself, so the sink appends its dead letters there; the embedded log counts
// offsets per handle, so beside the server's own writer they go to the parent thread instead.
const deadLetters = isKafkaUrl(data.logUrl)
  ? undefined
  : async (letters: DeadLetter[]): Promise<void> => port.postMessage({ type: 'dead-letters', letters })
const sink = await startWarehouseSink(log, data.root, { logger, retentionDays: data.retentionDays, ...(deadLetters ? { deadLetters } : {}) })
port.postMessage({ type: 'ready' })
port.on('message', (msg: { type: string }) => {
  if (msg.type !== 'stop') return
  void (async () => {
    await sink.stop()
    await log.close()
    port.postMessage({ type: 'stopped' })
    port.close()
  })()
})
