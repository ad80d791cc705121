import { encodeClockRecord } from '../events/clock-record.ts'
import type { TrackedEvent } from '../events/envelope.ts'
import { TOPICS, type EventLog } from '../log/event-log.ts'

/* Small helpers of the partition worker (./partition-worker.ts). */

export function asBuffer(c: Uint8Array): Buffer {
  return Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength)
}

export function safeJson(e: TrackedEvent): string {
  try {
    return JSON.stringify({ event: e.event, user_id: e.user_id, ts: e.ts, event_id: e.event_id, tenant: e.tenant, received_at: e.received_at, properties: e.properties })
  } catch {
    return '{}'
  }
}

export function finite(n: number): number | null {
  return Number.isFinite(n) ? n : null
}

/** A clock record at the end of a partition of the events log (docs/engine.md, "Time"). */
export function appendClockRecord(log: EventLog, partition: number, time: number): Promise<unknown> {
  return log.append(TOPICS.events, partition, [{ key: null, value: encodeClockRecord(time), timestamp: Date.now() }])
}
