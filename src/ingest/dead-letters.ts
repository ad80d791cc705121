import { partitionFor } from '../events/index.ts'
import { TOPICS, type AppendRecord, type EventLog } from '../log/event-log.ts'
import { MAX_FIELD_CHARS, MAX_MESSAGE_CHARS, bounded } from './text-bounds.ts'

/** Dead letters written by the collector carry this source; a file's carry `file:<path>`. */
export const HTTP_SOURCE = 'http'

/** A rejected event as kept in the dead-letter log: why it failed and exactly what was sent. */
export interface DeadLetter {
  tenant: string
  source: string
  received_at: number
  /** Position of the event in its request or file (0-based), or -1 when the whole body was bad. */
  index: number
  field: string
  reason: string
  /** The bytes as received, base64, so invalid UTF-8 survives. */
  raw_base64: string
  /**
   * A record read from a log (the engine's poison records, docs/engine.md): where it is. The
   * record stays there until retention, so topic, partition and offset find its full bytes.
   */
  topic?: string
  partition?: number
  offset?: number
  /** Set when raw_base64 holds only the first bytes of the record: its full size. */
  raw_bytes?: number
  raw_truncated?: true
}

/**
 * The dead letter of an event (or whole body, index −1) refused on its way in: `raw` is what was
 * sent, kept whole; field and reason are bounded, as they may quote a client's text of any size.
 */
export function inputLetter(source: string, tenant: string, receivedAt: number, index: number, field: string, reason: string, raw: Uint8Array): DeadLetter {
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
  return { tenant, source, received_at: receivedAt, index, field: bounded(field, MAX_FIELD_CHARS), reason: bounded(reason, MAX_MESSAGE_CHARS), raw_base64: bytes.toString('base64') }
}

export function deadLetterRecord(d: DeadLetter): AppendRecord {
  return { key: d.tenant, value: Buffer.from(JSON.stringify(d)), timestamp: d.received_at }
}

export async function appendDeadLetters(log: EventLog, letters: readonly DeadLetter[], partitions: number): Promise<void> {
  if (letters.length === 0) return
  const byPartition = new Map<number, AppendRecord[]>()
  for (const d of letters) {
    const p = partitionFor(d.tenant, partitions)
    let group = byPartition.get(p)
    if (!group) byPartition.set(p, (group = []))
    group.push(deadLetterRecord(d))
  }
  await Promise.all([...byPartition].map(([p, records]) => log.append(TOPICS.deadLetters, p, records)))
}
