import type { EventsFormat } from '../events/events-format.ts'
import { isKafkaUrl } from './kafka/connection-url.ts'

/**
 * How collectors store events on the log at `url` unless told (--events-format; docs/kafka.md,
 * "Record formats"): JSON on Kafka, where any consumer of the topic may read it (Kafka's console
 * consumer, kafkajs, a Java consumer); the binary envelope on the embedded log, which only tagstream
 * reads, and whose durable ingest is bound by the bytes written (86 against 154 bytes an event).
 */
export function defaultEventsFormat(url: string): EventsFormat {
  return isKafkaUrl(url) ? 'json' : 'binary'
}
