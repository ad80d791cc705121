import { resolve } from 'node:path'
import { DEFAULT_PARTITIONS, TOPICS, type EventLog } from './event-log.ts'
import { EmbeddedEventLog, type EmbeddedLogOptions } from './embedded/event-log.ts'
import { isKafkaUrl } from './kafka/connection-url.ts'

export interface OpenLogOptions extends EmbeddedLogOptions {
  partitions?: number
}

/**
 * Chooses the adapter by URL: a path or file: URL opens the embedded log (the default),
 * kafka://host:port[,host:port…][?prefix=…&clientId=…&replication=…] a Kafka cluster (docs/kafka.md).
 * The product's topics are created on open.
 */
export interface OpenedLog {
  log: EventLog
  /** Partition count of the events topic as stored: an existing log keeps the count it was created with. */
  partitions: number
}

export async function openEventLog(url: string, options: OpenLogOptions = {}): Promise<OpenedLog> {
  const partitions = options.partitions ?? DEFAULT_PARTITIONS
  let log: EventLog
  if (isKafkaUrl(url)) {
    // The broker applies retention itself (topic configs); retentionCheckMs is the embedded log's timer.
    const { retentionMs, retentionBytes } = options
    // Loaded only for a Kafka URL: the client and its option schemas take ~0.4 s to load, which
    // every embedded command (and `tagstream --help`) would otherwise pay at start.
    const { KafkaEventLog } = await import('./kafka/event-log.ts')
    log = await KafkaEventLog.open(url, {
      ...(retentionMs === undefined ? {} : { retentionMs }),
      ...(retentionBytes === undefined ? {} : { retentionBytes }),
    })
  } else {
    const dir = url.startsWith('file://') ? new URL(url).pathname : url.startsWith('file:') ? url.slice(5) : url
    log = await EmbeddedEventLog.open(resolve(dir), options)
  }
  const counts = new Map<string, number>()
  try {
    for (const topic of Object.values(TOPICS)) counts.set(topic, await log.createTopic(topic, { partitions }))
  } catch (err) {
    await log.close()
    throw err
  }
  return { log, partitions: counts.get(TOPICS.events)! }
}
