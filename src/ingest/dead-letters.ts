import { partitionFor } from '../events/index.ts'
import { TOPICS, type AppendRecord, type EventLog } from '../log/event-log.ts'

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
