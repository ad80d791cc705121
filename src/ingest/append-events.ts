import { DEFAULT_EVENTS_FORMAT, encodeEventAs, partitionFor, partitionKey, type EventsFormat, type TrackedEvent } from '../events/index.ts'
import { TOPICS, type AppendRecord, type EventLog } from '../log/event-log.ts'

export interface AppendedEvents {
  count: number
  /** Per partition, the offset range written. */
  ranges: Array<{ partition: number; baseOffset: number; count: number }>
}

/**
 * Appends validated events to the events topic, each to its user's partition, stored in `format`;
 * resolves once every partition's batch is durable. Order within a user is kept because a user maps
 * to one partition.
 */
export async function appendEvents(log: EventLog, events: readonly TrackedEvent[], partitions: number, format: EventsFormat = DEFAULT_EVENTS_FORMAT): Promise<AppendedEvents> {
  const groups: AppendRecord[][] = Array.from({ length: partitions }, () => [])
  for (const e of events) groupEvent(groups, e, format)
  return appendEncoded(log, groups)
}

/**
 * Encodes an event (in `format`) into its user's partition's group (index = partition, groups.length partitions).
 * Throws, leaving the groups as they were, when the event cannot be encoded.
 */
export function groupEvent(groups: AppendRecord[][], e: TrackedEvent, format: EventsFormat = DEFAULT_EVENTS_FORMAT): void {
  const key = partitionKey(e.tenant, e.user_id)
  const record = { key, value: encodeEventAs(e, format), timestamp: e.ts }
  groups[partitionFor(key, groups.length)]!.push(record)
}

/**
 * Appends events already encoded and grouped by partition (index = partition), as the collector's
 * fast path produces them; resolves once every partition's batch is durable.
 */
export async function appendEncoded(log: EventLog, groups: ReadonlyArray<readonly AppendRecord[]>): Promise<AppendedEvents> {
  const appends: Array<Promise<{ partition: number; baseOffset: number; count: number }>> = []
  let count = 0
  groups.forEach((records, partition) => {
    count += records.length
    if (records.length > 0) appends.push(log.append(TOPICS.events, partition, records).then((r) => ({ partition, ...r })))
  })
  const ranges = await Promise.all(appends)
  return { count, ranges }
}
