import type { EventLog, LogRecord } from '../../log/event-log.ts'
import type { Logger } from '../../logger.ts'
import type { StreamKind } from '../streams/kinds.ts'
import type { RecordFilter, WireRecord } from '../streams/records.ts'
import { deliverBatch, idempotencyKey, sleep, type DeliveryDeps } from './deliver.ts'
import { readWebhookRecord } from './webhook-record.ts'
import type { DeadLetter } from '../../ingest/dead-letters.ts'
import { recordLetter } from '../../ingest/record-letter.ts'
import { validTenant } from '../../events/json-record.ts'
import { DEFAULT_TENANT } from '../../events/index.ts'

export interface PartitionDispatch {
  log: EventLog
  logger: Logger
  /** The webhook's consumer group; `<group>:pending` holds the end of the batch in flight. */
  group: string
  kind: StreamKind
  partition: number
  filter: RecordFilter
  deliver: DeliveryDeps
  /** Records per POST. */
  batchSize: number
  /** Records per read. */
  readRecords: number
  pollWaitMs: number
  /** Where a new group starts: the current end ('now') or the first retained record. */
  start: 'now' | 'earliest'
  /** Counts a record skipped as unreadable (tagstream_webhook_skipped_records_total). */
  skipped: () => void
  /** Files the dead letter of a skipped record; resolves once it is durable. */
  deadLetter: (letter: DeadLetter) => Promise<void>
}

/** Delay before retrying after the log itself failed (not the receiver). */
const LOG_ERROR_PAUSE_MS = 1_000

/**
 * Delivers one partition of one topic to one webhook, in offset order, one batch at a time.
 *
 * Ordering, per batch: commit `<group>:pending` = the batch's end, POST, then commit `<group>` =
 * the same end. After a crash between the two commits the pending range is re-read exactly and
 * re-sent first, so the retry has the same records and the same Idempotency-Key as before the crash,
 * though batch boundaries of a live tail depend on how much a read happened to return.
 */
export async function dispatchPartition(d: PartitionDispatch): Promise<void> {
  const signal = d.deliver.signal
  const topic = d.kind.topic
  const pendingGroup = `${d.group}:pending`
  let next = -1
  while (!signal.aborted) {
    try {
      if (next < 0) {
        next = await startOffset(d)
        const pending = await d.log.committed(pendingGroup, topic, d.partition)
        if (pending !== null && pending > next) {
          const records = await readRange(d, next, pending)
          if (records === null) return
          const end = await sendRecords(d, pendingGroup, records, pending)
          if (end === null) return
          next = end
        }
      }
      const records = await d.log.read(topic, d.partition, next, { maxWaitMs: d.pollWaitMs, maxRecords: d.readRecords })
      if (records.length === 0) continue
      const end = await sendRecords(d, pendingGroup, records, records[records.length - 1]!.offset + 1)
      if (end === null) return
      next = end
    } catch (err) {
      if (signal.aborted) return
      d.logger.error({ err, group: d.group, topic, partition: d.partition }, 'webhook dispatcher could not use the log; retrying')
      await sleep(LOG_ERROR_PAUSE_MS, signal)
    }
  }
}

async function startOffset(d: PartitionDispatch): Promise<number> {
  const committed = await d.log.committed(d.group, d.kind.topic, d.partition)
  if (committed !== null) return committed
  const bounds = await d.log.offsets(d.kind.topic, d.partition)
  const start = d.start === 'now' ? bounds.end : bounds.start
  // Committed at once, so a restart before the first delivery still starts here, not at a later "now".
  await d.log.commit(d.group, d.kind.topic, d.partition, start)
  return start
}

/** Records in [from, to); null when stopped. */
async function readRange(d: PartitionDispatch, from: number, to: number): Promise<LogRecord[] | null> {
  const out: LogRecord[] = []
  let offset = from
  while (offset < to) {
    if (d.deliver.signal.aborted) return null
    const got = await d.log.read(d.kind.topic, d.partition, offset, { maxRecords: Math.min(d.readRecords, to - offset), maxWaitMs: d.pollWaitMs })
    if (got.length === 0) continue
    for (const r of got) if (r.offset < to) out.push(r)
    offset = got[got.length - 1]!.offset + 1
  }
  return out
}

/**
 * Sends the selected records of `records` in batches of up to batchSize, committing after each;
 * `end` is the offset after the last record, committed with the last batch (filtered-out tail
 * included). Returns the new next offset, or null when stopped.
 */
async function sendRecords(d: PartitionDispatch, pendingGroup: string, records: readonly LogRecord[], end: number): Promise<number | null> {
  const topic = d.kind.topic
  let batch: WireRecord[] = []
  for (const r of records) {
    const read = readWebhookRecord(d.kind, d.partition, r, d.filter)
    if (read === null) continue
    if ('skip' in read) {
      // One bad record must not hold the partition: it is skipped (the committed offset moves past
      // it with the batch), named in the log, and dead-lettered before any commit passes it (a
      // crash before that files it again: at least once, one letter per webhook that skipped it).
      await d.deadLetter(
        recordLetter(d.group, { tenant: keyTenant(r.key), field: '(record)', reason: read.skip }, { topic, partition: d.partition, offset: r.offset, timestamp: r.timestamp }, r.value),
      )
      d.skipped()
      d.logger.warn({ group: d.group, topic, partition: d.partition, offset: r.offset, reason: read.skip }, 'webhook skipped an unreadable record')
      continue
    }
    batch.push(read.wire)
    if (batch.length === d.batchSize) {
      if (!(await sendBatch(d, pendingGroup, batch, r.offset + 1))) return null
      batch = []
    }
  }
  if (batch.length > 0) {
    if (!(await sendBatch(d, pendingGroup, batch, end))) return null
  } else {
    await d.log.commit(d.group, topic, d.partition, end)
  }
  return end
}

async function sendBatch(d: PartitionDispatch, pendingGroup: string, records: WireRecord[], end: number): Promise<boolean> {
  const topic = d.kind.topic
  await d.log.commit(pendingGroup, topic, d.partition, end)
  const outcome = await deliverBatch({ topic, partition: d.partition, records, idempotencyKey: idempotencyKey(topic, d.partition, records) }, d.deliver)
  if (outcome === 'stopped') return false
  await d.log.commit(d.group, topic, d.partition, end)
  return true
}

/** The tenant an output record's key (`tenant:user_id`) names, else the default tenant. */
function keyTenant(key: string | null): string {
  const colon = key === null ? -1 : key.indexOf(':')
  const t = colon > 0 ? key!.slice(0, colon) : ''
  return validTenant(t) ? t : DEFAULT_TENANT
}
