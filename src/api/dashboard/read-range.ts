import type { EventLog, LogRecord } from '../../log/event-log.ts'

/**
 * Every record of `[from, to)` of one partition. One read may stop early (its byte limit), so
 * this reads on from where the last one ended: a caller walking back through the log in steps
 * never skips the records a short read left out.
 */
export async function readRange(log: EventLog, topic: string, partition: number, from: number, to: number): Promise<LogRecord[]> {
  const out: LogRecord[] = []
  let next = from
  while (next < to) {
    const records = await log.read(topic, partition, next, { maxRecords: to - next })
    if (records.length === 0) break
    for (const r of records) {
      if (r.offset >= to) return out
      out.push(r)
    }
    next = records[records.length - 1]!.offset + 1
  }
  return out
}
