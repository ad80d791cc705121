import type { DeadLetter } from './dead-letters.ts'

/*
 * The dead letter of a record read from a log that its reader could not use (a poison record):
 * the engine's input, the warehouse sink's, a webhook's. One shape for all of them, so
 * GET /v1/dead-letters and a person reading the topic see the same fields whoever skipped it.
 */

/**
 * Raw bytes kept in such a dead letter. A Kafka record may be 16 MiB; the record itself stays in its
 * log until retention (topic, partition and offset find it), so the letter keeps what a person
 * needs to see what went wrong: the same 16 KiB that GET /v1/dead-letters shows.
 */
export const RECORD_RAW_BYTES = 16 * 1024

/** Where the record sits in its log. */
export interface RecordAt {
  topic: string
  partition: number
  offset: number
  /** The record's log timestamp: the letter's `received_at`, the same on every replay. */
  timestamp: number
}

/** Why the reader refused it, and whose it is (the tenant it names, else `default`). */
export interface RecordRefusal {
  tenant: string
  field: string
  reason: string
}

export function recordLetter(source: string, why: RecordRefusal, at: RecordAt, raw: Uint8Array): DeadLetter {
  const kept = raw.byteLength > RECORD_RAW_BYTES ? raw.subarray(0, RECORD_RAW_BYTES) : raw
  const letter: DeadLetter = {
    tenant: why.tenant,
    source,
    received_at: at.timestamp,
    index: -1,
    field: why.field,
    reason: why.reason,
    raw_base64: Buffer.from(kept.buffer, kept.byteOffset, kept.byteLength).toString('base64'),
    topic: at.topic,
    partition: at.partition,
    offset: at.offset,
  }
  if (kept !== raw) {
    letter.raw_bytes = raw.byteLength
    letter.raw_truncated = true
  }
  return letter
}
