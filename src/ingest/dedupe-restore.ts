import { CODEC, idSpan, storedIds } from '../events/index.ts'
import { TOPICS, type EventLog } from '../log/event-log.ts'
import { readRecordBatch } from '../log/read-batch.ts'
import { Deduper } from './dedupe.ts'

/*
 * The dedupe horizon survives a restart by being read back from the log, where every accepted event
 * already is: no second store to keep in step with the log, and it works the same on every log
 * adapter (embedded and Kafka). Before the collector takes its first request, each partition's
 * events received within the horizon are read and their client ids marked as seen at their receive
 * time, exactly as if this process had accepted them (docs/collector.md, "De-duplication").
 *
 * Bounded work: per partition at most `maxEntries` records are considered (the horizon cannot hold
 * more ids than that anyway), and a binary search on receive times skips what is older than the
 * horizon, so a restart after a quiet hour reads a handful of records, not the whole log.
 */

const { VERSION, AT_RECEIVED, AT_FLAGS, HEADER, SERVER_ID, OPEN_BRACE } = CODEC

/** Receive times are close to append order, not exactly (concurrent requests): search this far before the cutoff. */
const SEARCH_SLACK_MS = 60_000
/** Records read per step of the forward scan. */
const STEP = 8192
/** Records read to find one event's receive time at a probe (clock records and foreign ones have none). */
const PROBE = 32

export interface RestoreResult {
  /** Client ids now marked as seen. */
  ids: number
  /** Event records read to find them. */
  records: number
}

/** Marks the client ids of events received in (now − horizon, now] on every partition as seen. */
export async function restoreDedupe(deduper: Deduper, log: EventLog, partitions: number, now: number): Promise<RestoreResult> {
  const { horizonMs, maxEntries } = deduper.settings
  const cutoff = now - horizonMs
  let found: Array<{ key: string; at: number }> = []
  let records = 0
  // Time order across partitions, newest maxEntries kept: the horizon forgets oldest first, as it
  // would have live. Trimmed after every partition, so memory stays within 2 × maxEntries ids.
  const newest = () => {
    found.sort((a, b) => a.at - b.at)
    if (found.length > maxEntries) found = found.slice(found.length - maxEntries)
  }
  for (let p = 0; p < partitions; p++) {
    const { start, end } = await log.offsets(TOPICS.events, p)
    const from = await firstReceivedSince(log, p, Math.max(start, end - maxEntries), end, cutoff - SEARCH_SLACK_MS)
    for (let next = from; next < end;) {
      const batch = await readRecordBatch(log, TOPICS.events, p, next, { maxRecords: Math.min(STEP, end - next) })
      if (batch.count === 0) break
      for (let i = 0; i < batch.count; i++) {
        const chunk = batch.chunks[batch.chunkOf[i]!]!
        const id = clientId(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength), batch.starts[i]!, batch.ends[i]!)
        if (id !== null && id.at > cutoff && id.at <= now) found.push(id)
      }
      records += batch.count
      next = batch.offsets[batch.count - 1]! + 1
    }
    newest()
  }
  deduper.restore(found, now)
  return { ids: deduper.size, records }
}

/**
 * The first offset in [lo, end) whose event was received at or after `since`, by binary search on
 * the receive times of events near each probe. Receive times only roughly follow offsets, which the
 * caller's slack allows for; it may return an offset somewhat early, never one past events it needs.
 */
async function firstReceivedSince(log: EventLog, partition: number, lo: number, end: number, since: number): Promise<number> {
  let hi = end
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2)
    const at = await receivedNear(log, partition, mid, hi)
    if (at === null || at >= since) hi = mid
    else lo = mid + 1
  }
  return lo
}

/** The receive time of the first event at or after `offset` (before `end`), or null when none is near. */
async function receivedNear(log: EventLog, partition: number, offset: number, end: number): Promise<number | null> {
  const batch = await readRecordBatch(log, TOPICS.events, partition, offset, { maxRecords: Math.min(PROBE, end - offset) })
  for (let i = 0; i < batch.count; i++) {
    const chunk = batch.chunks[batch.chunkOf[i]!]!
    const s = batch.starts[i]!
    const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (batch.ends[i]! - s >= AT_RECEIVED + 8 && chunk[s] === VERSION) return b.readDoubleLE(s + AT_RECEIVED)
    const stored = chunk[s] === OPEN_BRACE ? storedIds(b, s, batch.ends[i]!) : null
    if (stored !== null) return stored.receivedAt
  }
  return null
}

/**
 * The dedupe key and receive time of a stored event in b[s, end) (binary, or JSON with received_at)
 * whose id the client chose, or null: a clock record, a JSON record of another producer without
 * received_at (it never went through a collector), an id the server assigned, or a record too short
 * to hold what its lengths say (poison is skipped, not fatal).
 */
export function clientId(b: Buffer, s: number, end: number): { key: string; at: number } | null {
  if (b[s] === OPEN_BRACE) {
    const stored = storedIds(b, s, end)
    if (stored === null || stored.assigned || stored.eventId.length === 0 || !Number.isFinite(stored.receivedAt)) return null
    return { key: Deduper.prefix(stored.tenant) + stored.eventId, at: stored.receivedAt }
  }
  // HEADER + 8: the header and the five length prefixes of an event with empty strings, the smallest there is.
  if (end - s < HEADER + 8 || b[s] !== VERSION) return null
  const flags = b[s + AT_FLAGS]!
  if (flags & SERVER_ID) return null
  const at = b.readDoubleLE(s + AT_RECEIVED)
  const ids = idSpan(b, s, end)
  if (ids === null || ids.idEnd === ids.idStart || !Number.isFinite(at)) return null
  const tenant = b.toString('utf8', ids.tenantStart, ids.tenantEnd)
  return { key: Deduper.prefix(tenant) + b.toString('utf8', ids.idStart, ids.idEnd), at }
}
