import { encodeEvent, partitionFor, partitionKey, type TrackedEvent } from '../events/index.ts'
import { TOPICS, type AppendRecord, type EventLog } from '../log/event-log.ts'

export interface AppendedEvents {
  count: number
  /** Per partition, the offset range written. */
  ranges: Array<{ partition: number; baseOffset: number; count: number }>
}

/**
 * Appends validated events to the events topic, each to its user's partition; resolves once every
 * partition's batch is durable. Order within a user is kept because a user maps to one partition.
 */
export async function appendEvents(log: EventLog, events: readonly TrackedEvent[], partitions: number): Promise<AppendedEvents> {
  const groups = new Map<number, AppendRecord[]>()
  for (const e of events) {
    const key = partitionKey(e.tenant, e.user_id)
    const p = partitionFor(key, partitions)
    let group = groups.get(p)
    if (!group) groups.set(p, (group = []))
    group.push({ key, value: encodeEvent(e), timestamp: e.ts })
  }
  const ranges = await Promise.all(
    [...groups].map(async ([partition, records]) => ({ partition, ...(await log.append(TOPICS.events, partition, records)) })),
  )
  return { count: events.length, ranges }
}
