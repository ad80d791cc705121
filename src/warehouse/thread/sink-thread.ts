import { parentPort, workerData } from 'node:worker_threads'
import type { DeadLetter } from '../../ingest/dead-letters.ts'
import { TOPICS } from '../../log/event-log.ts'
import { isKafkaUrl } from '../../log/kafka/connection-url.ts'
import { openEventLog } from '../../log/open-log.ts'
import { createLogger } from '../../logger.ts'
import { dropOldPartitions, startWarehouseSink } from '../sink/index.ts'
import type { SinkCounts } from './sink-counts.ts'
import type { WarehouseErase } from '../sink/erase-rows.ts'

export interface SinkThreadData {
  logUrl: string
  root: string
  logLevel: string
  /** Partition expiration of the warehouse in days (`serve --retention-days`). */
  retentionDays: number
}

/** How often the thread looks whether its counts changed. */
const COUNTS_INTERVAL_MS = 1_000

/**
 * The warehouse sink in `tagstream serve` has a thread of its own: a flush appends hundreds of
 * thousands of values synchronously, which would stall the engine's (or the collector's) event loop.
 */
const data = workerData as SinkThreadData
const port = parentPort!
const logger = createLogger('warehouse', data.logLevel)
// Expired days go before the thread reports ready, so a server is rid of them by the time
// startSinkThread resolves; the sink's own maintenance would get to them only once its loop runs,
// next to the first flushes. (Queries leave them out in any case: WarehouseOptions.retentionDays.)
const dropped = await dropOldPartitions(data.root, data.retentionDays)
if (dropped.length > 0) logger.info({ dropped, retentionDays: data.retentionDays }, 'warehouse retention at start: days dropped')
const { log } = await openEventLog(data.logUrl, { retentionCheckMs: 0 })
// Kafka assigns offsets itself, so the sink appends its dead letters there; the embedded log counts
// offsets per handle, so beside the server's own writer they go to the parent thread instead.
const deadLetters = isKafkaUrl(data.logUrl) ? undefined : async (letters: DeadLetter[]): Promise<void> => port.postMessage({ type: 'dead-letters', letters })
// One DuckDB thread for merges and output streams: inside a server they share the cores with ingest,
// the engine and queries (after a soak, popular_events took 0.5–1.3 s in the running server while
// it merged, 0.16–0.2 s in a quiet process over the same files). `tagstream warehouse` commands keep every core.
const sink = await startWarehouseSink(log, data.root, {
  logger,
  retentionDays: data.retentionDays,
  threads: 1,
  ...(deadLetters ? { deadLetters } : {}),
  onFilesChanged: () => port.postMessage({ type: 'files-changed' }),
})
port.postMessage({ type: 'ready' })

// The counts /metrics shows (./sink-counts.ts), sent when they change: flushes are seconds apart.
let reported = ''
const reportCounts = (): void => {
  const stats = sink.stats()
  const counts: SinkCounts = {
    poisonRecords: { [TOPICS.events]: stats.poisonRecords, ...Object.fromEntries(Object.entries(stats.streams).map(([stream, s]) => [stream, s.poisonRecords])) },
    typeConflicts: stats.typeConflicts + Object.values(stats.streams).reduce((n, s) => n + s.typeConflicts, 0),
  }
  const text = JSON.stringify(counts)
  if (text === reported) return
  reported = text
  port.postMessage({ type: 'counts', counts })
}
reportCounts()
const countsTimer = setInterval(reportCounts, COUNTS_INTERVAL_MS)
countsTimer.unref()

port.on('message', (msg: { type: string; id?: number; erase?: WarehouseErase }) => {
  if (msg.type === 'erase' && msg.erase !== undefined) {
    sink.erase(msg.erase).then(
      (result) => port.postMessage({ type: 'erased', id: msg.id, result }),
      (err: unknown) => port.postMessage({ type: 'erased', id: msg.id, error: err instanceof Error ? err.message : String(err) }),
    )
    return
  }
  if (msg.type !== 'stop') return
  void (async () => {
    clearInterval(countsTimer)
    await sink.stop()
    // The last flush's counts too.
    reportCounts()
    await log.close()
    port.postMessage({ type: 'stopped' })
    port.close()
  })()
})
