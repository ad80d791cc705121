import type { AppendRecord, AppendResult, EventLog, LogRecord, PartitionOffsets, ReadOptions, RecordBatch, RetentionResult, TopicSpec } from '../log/event-log.ts'
import { readRecordBatch } from '../log/read-batch.ts'

/**
 * The event log as one partition's worker sees it: every append first asks `guard`, which throws
 * once the worker's lease may have passed to another worker. Postgres fences the checkpoint; this
 * is the output streams' side, since the log itself cannot check a Postgres lease.
 */
export class FencedEventLog implements EventLog {
  constructor(
    private readonly log: EventLog,
    private readonly guard: () => void,
  ) {}

  // async: a refusal is a rejected promise like any other append failure; the guard still runs at the call.
  async append(topic: string, partition: number, records: readonly AppendRecord[]): Promise<AppendResult> {
    this.guard()
    return this.log.append(topic, partition, records)
  }

  createTopic(topic: string, spec: TopicSpec): Promise<number> {
    return this.log.createTopic(topic, spec)
  }

  partitionCount(topic: string): Promise<number | null> {
    return this.log.partitionCount(topic)
  }

  read(topic: string, partition: number, offset: number, options?: ReadOptions): Promise<LogRecord[]> {
    return this.log.read(topic, partition, offset, options)
  }

  // Always defined, going to the log's own readBatch when it has one: without it the poll loop would
  // fall back to read() and pay an object and a Buffer view per record.
  readBatch(topic: string, partition: number, offset: number, options?: ReadOptions): Promise<RecordBatch> {
    return readRecordBatch(this.log, topic, partition, offset, options)
  }

  offsets(topic: string, partition: number): Promise<PartitionOffsets> {
    return this.log.offsets(topic, partition)
  }

  commit(group: string, topic: string, partition: number, offset: number): Promise<void> {
    return this.log.commit(group, topic, partition, offset)
  }

  committed(group: string, topic: string, partition: number): Promise<number | null> {
    return this.log.committed(group, topic, partition)
  }

  applyRetention(now?: number): Promise<RetentionResult> {
    return this.log.applyRetention(now)
  }

  /** The shared log outlives one partition's ownership: closing is the worker process's job. */
  async close(): Promise<void> {}
}
