import type { DeadLetter } from '../ingest/dead-letters.ts'
import type { Poison } from './engine-record.ts'

/**
 * Raw bytes kept in an engine dead letter. A Kafka record may be 16 MiB; the record itself stays in
 * the `events` log until retention (topic, partition and offset find it), so the dead letter keeps
 * what a person needs to see what went wrong: the same 16 KiB that GET /v1/dead-letters shows.
 */
export const POISON_RAW_BYTES = 16 * 1024

/** Where a poison record sits in the log. */
export interface PoisonAt {
  topic: string
  partition: number
  offset: number
  /** The record's log timestamp: the dead letter's `received_at`, the same on every replay. */
  timestamp: number
}

/** The dead letter of one poison record of the engine's input (docs/engine.md, "Poison records"). */
export function poisonLetter(p: Poison, at: PoisonAt, raw: Uint8Array): DeadLetter {
  const kept = raw.byteLength > POISON_RAW_BYTES ? raw.subarray(0, POISON_RAW_BYTES) : raw
  const letter: DeadLetter = {
    tenant: p.tenant,
    source: 'engine',
    received_at: at.timestamp,
    index: -1,
    field: p.field,
    reason: p.reason,
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
