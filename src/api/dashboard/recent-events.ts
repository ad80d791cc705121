import { decodeEvent, partitionKey, partitionOfUser, type JsonValue, type TrackedEvent } from '../../events/index.ts'
import { TOPICS, type EventLog } from '../../log/event-log.ts'
import { readRange } from '../../log/read-range.ts'

export interface RecentEvent {
  event: string
  ts: number
  received_at: number
  event_id: string
  properties: Record<string, JsonValue>
  offset: number
}

export interface RecentEvents {
  events: RecentEvent[]
  partition: number
  /** True when the scan reached the partition's first retained record: nothing older is stored. */
  complete: boolean
}

/** Records read per step back from the end. */
const STEP = 1_000

/**
 * A user's latest events, newest first, straight from the event log: the user's partition is
 * read backwards from its end, at most `scan` records, keeping those keyed `tenant:user_id`.
 * Bounded work whatever the log's size; a user quiet for longer than `scan` records of their
 * partition shows none (`complete: false` says so).
 */
export async function recentEvents(log: EventLog, partitions: number, tenant: string, userId: string, limit: number, scan: number): Promise<RecentEvents> {
  const partition = partitionOfUser(tenant, userId, partitions)
  const key = partitionKey(tenant, userId)
  const { start, end } = await log.offsets(TOPICS.events, partition)
  const found: RecentEvent[] = []
  let to = end
  let scanned = 0
  while (to > start && scanned < scan && found.length < limit) {
    const from = Math.max(start, to - Math.min(STEP, scan - scanned))
    const records = await readRange(log, TOPICS.events, partition, from, to)
    scanned += to - from
    for (let i = records.length - 1; i >= 0 && found.length < limit; i--) {
      const r = records[i]!
      if (r.key !== key) continue
      // Another producer's JSON record is read as the engine reads it, from its place in the log;
      // one that is not an event (the engine dead-letters it) is left out.
      let e: TrackedEvent
      try {
        e = decodeEvent(r.value, { partition, offset: r.offset, timestamp: r.timestamp })
      } catch {
        continue
      }
      found.push({ event: e.event, ts: e.ts, received_at: e.received_at, event_id: e.event_id, properties: e.properties, offset: r.offset })
    }
    to = from
  }
  // How many records were looked at is not told: the partition holds other tenants' records too,
  // and their count is not this tenant's to know.
  return { events: found, partition, complete: to <= start }
}
