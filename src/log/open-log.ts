import { resolve } from 'node:path'
import { DEFAULT_PARTITIONS, TOPICS, type EventLog } from './event-log.ts'
import { EmbeddedEventLog, type EmbeddedLogOptions } from './embedded/event-log.ts'

export interface OpenLogOptions extends EmbeddedLogOptions {
  partitions?: number
}

/**
 * Chooses the adapter by URL: a path or file: URL opens the embedded log (the default),
 * kafka:// a Kafka cluster. The product's topics are created on open.
 */
export interface OpenedLog {
  log: EventLog
  /** Partition count of the events topic as stored: an existing log keeps the count it was created with. */
  partitions: number
}

export async function openEventLog(url: string, options: OpenLogOptions = {}): Promise<OpenedLog> {
  const partitions = options.partitions ?? DEFAULT_PARTITIONS
  let log: EventLog
  if (url.startsWith('kafka://')) {
    throw new Error('the Kafka event log is not available in this build yet; use a directory path for the embedded log')
  } else {
    const dir = url.startsWith('file://') ? new URL(url).pathname : url.startsWith('file:') ? url.slice(5) : url
    log = await EmbeddedEventLog.open(resolve(dir), options)
  }
  const counts = new Map<string, number>()
  for (const topic of Object.values(TOPICS)) counts.set(topic, await log.createTopic(topic, { partitions }))
  return { log, partitions: counts.get(TOPICS.events)! }
}
