import type { EventLog } from '../log/event-log.ts'
import { appendEncoded } from './append-events.ts'
import type { IngestBatch } from './batch.ts'
import { appendDeadLetters } from './dead-letters.ts'
import type { Deduper } from './dedupe.ts'

/**
 * Appends a batch's events and dead letters; resolves once both are durable. Claimed ids become seen
 * only then; if the append fails they are released (a retry must not look like a duplicate).
 * `deduper` is null where nothing was claimed (file ingest).
 */
export async function appendBatch(log: EventLog, partitions: number, batch: IngestBatch, deduper: Deduper | null): Promise<void> {
  const { letters, claimed } = batch
  try {
    if (batch.unencodable) throw batch.unencodable
    const events = batch.accepted > 0 ? () => appendEncoded(log, batch.groups) : null
    if (events !== null && letters.length > 0) await Promise.all([events(), appendDeadLetters(log, letters, partitions)])
    else if (events !== null) await events()
    else await appendDeadLetters(log, letters, partitions)
  } catch (err) {
    deduper?.release(claimed)
    throw err
  }
  deduper?.commit(claimed, Date.now())
}
