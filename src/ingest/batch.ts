import type { AppendRecord } from '../log/event-log.ts'
import type { DeadLetter } from './dead-letters.ts'

/** One rejected event in an answer: position in the request or file, `field: reason`, and the field. */
export interface RejectedEvent {
  index: number
  error: string
  field: string
}

/** The collector's answer to an ingest request, sent once everything in it is durable. */
export interface IngestResult {
  accepted: number
  duplicates: number
  rejected: RejectedEvent[]
}

/**
 * What one request (or one run of file lines) became, whichever path read it: the accepted events
 * already encoded and grouped by partition, the rejected ones with their reasons and dead letters,
 * the duplicates, and the dedupe keys claimed for it. appendBatch (./append-batch.ts) makes it durable.
 */
export interface IngestBatch {
  /** Index = partition; that partition's encoded events in request order. */
  groups: AppendRecord[][]
  /** Events in `groups`, all partitions together. */
  accepted: number
  duplicates: number
  rejected: RejectedEvent[]
  /** One per rejected event (and per refused whole body), the bytes as sent. */
  letters: DeadLetter[]
  /** Dedupe keys claimed for the accepted events: committed after the append, released if it fails. */
  claimed: string[]
  /** Elements read by the general path (JSON.parse, validateEvent); the rest the fast path read from bytes. */
  validated: number
  /**
   * A validated event that could not be encoded: the batch is not appended and its request fails as
   * a failed append would (503, nothing acknowledged), which is what happened before encoding moved
   * to sorting time.
   */
  unencodable?: Error
}

export function emptyBatch(partitions: number): IngestBatch {
  return { groups: Array.from({ length: partitions }, () => []), accepted: 0, duplicates: 0, rejected: [], letters: [], claimed: [], validated: 0 }
}
