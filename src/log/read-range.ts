import type { EventLog, LogRecord } from './event-log.ts'

/**
 * Every record of `[from, to)` of one partition, in offset order. One read may stop early (its byte
 * limit), so this reads on from where the last one ended: a caller walking back through the log in
 * steps never skips the records a short read left out. A consumer that turns each record into
 * something smaller (the dead-letter list) never holds a whole window of raw records.
 */
export async function* recordsInRange(log: EventLog, topic: string, partition: number, from: number, to: number): AsyncGenerator<LogRecord> {
  let next = from
  while (next < to) {
    const records = await log.read(topic, partition, next, { maxRecords: to - next })
    if (records.length === 0) return
    for (const r of records) {
      if (r.offset >= to) return
      yield r
    }
    next = records[records.length - 1]!.offset + 1
  }
}

/** recordsInRange as an array. */
export async function readRange(log: EventLog, topic: string, partition: number, from: number, to: number): Promise<LogRecord[]> {
  const out: LogRecord[] = []
  for await (const r of recordsInRange(log, topic, partition, from, to)) out.push(r)
  return out
}
