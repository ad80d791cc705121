import type { EventLog, LogRecord } from '../../log/event-log.ts'
import type { Logger } from '../../logger.ts'
import { encodeCursor } from './cursor.ts'
import type { StreamKind } from './kinds.ts'
import { readStreamRecord, type RecordFilter } from './records.ts'
import { countSkippedRecord } from './skipped.ts'
import { sseComment, sseFrame, type SseWriter } from './sse.ts'

export interface SessionOptions {
  log: EventLog
  logger: Logger
  kind: StreamKind
  /** Next offset to read, per partition. */
  start: readonly number[]
  filter: RecordFilter
  writer: SseWriter
  heartbeatMs: number
  /** How long one read parks at the end of a partition; bounds how long a loop outlives its client. */
  pollWaitMs: number
  /** Records per read. */
  maxRecords: number
  /** Suggested reconnect delay sent to the client (`retry:`). */
  retryMs: number
}

/** Frames are gathered into chunks of about this size, so a catch-up does not write once per record. */
const CHUNK_CHARS = 64 * 1024

/**
 * One client's live stream: a read loop per partition, merged into one ordered SSE stream.
 * Ordering: every write goes through one promise chain, and the cursor is advanced in that chain
 * only, so each event id covers exactly the records written (or filtered out) before it.
 */
export class StreamSession {
  readonly done: Promise<void>
  private readonly cursor: number[]
  private chain: Promise<unknown> = Promise.resolve()
  private readonly heartbeat: NodeJS.Timeout

  constructor(private readonly o: SessionOptions) {
    this.cursor = [...o.start]
    this.heartbeat = setInterval(() => this.beat(), o.heartbeatMs)
    this.heartbeat.unref()
    o.writer.onClose(() => clearInterval(this.heartbeat))
    // The first frame dispatches no event (no data) but sets the client's last event id, so a
    // client that drops before any event still resumes from where it started rather than "now".
    void o.writer.write(sseFrame({ retry: o.retryMs, id: encodeCursor(o.kind, this.cursor) }))
    this.done = Promise.all(this.cursor.map((_, p) => this.pump(p))).then(() => {
      clearInterval(this.heartbeat)
    })
  }

  /** Ends the response; the loops exit when their current read returns (within pollWaitMs). */
  stop(): void {
    this.o.writer.end()
  }

  private beat(): void {
    // A full socket buffer means frames are flowing; a comment would only add to the queue.
    if (this.o.writer.isClosed || this.o.writer.busy) return
    void this.o.writer.write(sseComment('keep-alive'))
  }

  private async pump(partition: number): Promise<void> {
    const { log, kind, writer } = this.o
    let offset = this.cursor[partition]!
    while (!writer.isClosed) {
      let records: LogRecord[]
      try {
        records = await log.read(kind.topic, partition, offset, { maxWaitMs: this.o.pollWaitMs, maxRecords: this.o.maxRecords })
      } catch (err) {
        if (!writer.isClosed) this.o.logger.warn({ err, stream: kind.name, partition }, 'stream read failed; closing the stream (the client resumes with Last-Event-ID)')
        writer.end()
        return
      }
      if (records.length === 0) continue
      offset = records[records.length - 1]!.offset + 1
      try {
        await this.emit(partition, records)
      } catch (err) {
        // Never a rejected loop: it would hold the stream's slot and stop this partition unseen.
        if (!writer.isClosed) this.o.logger.error({ err, stream: kind.name, partition }, 'stream write failed; closing the stream (the client resumes with Last-Event-ID)')
        writer.end()
        return
      }
    }
  }

  private emit(partition: number, records: readonly LogRecord[]): Promise<unknown> {
    const run = this.chain.then(() => this.write(partition, records))
    this.chain = run.catch(() => undefined)
    return run
  }

  private async write(partition: number, records: readonly LogRecord[]): Promise<void> {
    const { kind, writer, filter } = this.o
    let chunk = ''
    let logged = false
    for (const record of records) {
      if (writer.isClosed) return
      this.cursor[partition] = record.offset + 1
      const r = readStreamRecord(kind, partition, record, filter)
      if (r === null) continue
      if ('skip' in r) {
        // Counted each; logged once a read, as a producer writing garbage writes a lot of it.
        countSkippedRecord(kind.name)
        if (!logged) this.o.logger.warn({ stream: kind.name, partition, offset: record.offset, reason: r.skip }, 'stream skipped a record that is not a usable output record')
        logged = true
        continue
      }
      chunk += sseFrame({ id: encodeCursor(kind, this.cursor), event: kind.event, data: r.data })
      if (chunk.length >= CHUNK_CHARS) {
        await writer.write(chunk)
        chunk = ''
      }
    }
    if (chunk !== '') await writer.write(chunk)
  }
}
