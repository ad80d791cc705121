import { setTimeout as sleep } from 'node:timers/promises'
import { Admin, type ConnectionOptions } from '@platformatic/kafka'
import {
  DEFAULT_RETENTION,
  UnknownTopicError,
  type AppendRecord,
  type AppendResult,
  type EventLog,
  type LogTransaction,
  type PartitionGroup,
  type PartitionGroupOptions,
  type LogRecord,
  type PartitionOffsets,
  type ReadOptions,
  type RecordBatch,
  type RetentionPolicy,
  type RetentionResult,
  type TopicSpec,
} from '../event-log.ts'
import { batchOfRecords } from '../read-batch.ts'
import { Appender } from './appender.ts'
import { parseKafkaUrl, type KafkaConnection } from './connection-url.ts'
import { Fetcher } from './fetcher.ts'
import { hasKafkaError, isRetriable } from './kafka-errors.ts'
import { IdempotentProducer } from './producer.ts'
import { batchSpans, decodeRecordBatch, decodeRecords, recordSize, type BatchSpan } from './records.ts'
import type { ResponseBytes } from './response-bytes.ts'
import { applyRetention, type RetentionOps } from './retention.ts'
import { KafkaTransaction } from './transaction.ts'
import { GroupMember } from './group/group-member.ts'

export type KafkaLogOptions = Partial<RetentionPolicy>

const DEFAULT_MAX_RECORDS = 10_000
const DEFAULT_MAX_BYTES = 4 * 1024 * 1024
/** Largest append (one record batch) a topic created here accepts. */
export const MAX_BATCH_BYTES = 16 * 1024 * 1024
// Kafka's ListOffsets sentinels.
const EARLIEST = -2n
const LATEST = -1n
const READ_COMMITTED = 1
const CONNECTION: ConnectionOptions = { connectTimeout: 5_000, requestTimeout: 35_000, maxInflights: 5 }

/**
 * The event log on Apache Kafka. Partitioning stays the caller's (murmur2 of the key, as Kafka's
 * default partitioner): append writes to the partition it is given. Topic and group names carry the
 * URL's prefix. Durability is Kafka's: an append resolves once every in-sync replica has the batch
 * (acks=all, idempotent producer).
 */
export class KafkaEventLog implements EventLog {
  private readonly partitions = new Map<string, number>()
  private closed = false
  /** Settles after the last append's topic check: keeps appends in call order (the EventLog contract). */
  private appendOrder: Promise<void> = Promise.resolve()

  private constructor(
    private readonly conn: KafkaConnection,
    private readonly policy: RetentionPolicy,
    private readonly admin: Admin,
    private readonly producer: IdempotentProducer,
    private readonly appender: Appender,
    private readonly fetcher: Fetcher,
  ) {}

  /** Connects to the brokers of a kafka:// URL (see docs/kafka.md) and checks they answer. */
  static async open(url: string, options: KafkaLogOptions = {}): Promise<KafkaEventLog> {
    const conn = parseKafkaUrl(url)
    const base = { clientId: conn.clientId, bootstrapBrokers: conn.brokers, retries: 5, retryDelay: 200 }
    const admin = new Admin(base)
    try {
      await admin.metadata({ topics: [] })
    } catch (err) {
      await admin.close()
      throw new Error(`cannot reach Kafka at ${conn.brokers.join(',')}: ${(err as Error).message}`, { cause: err })
    }
    const connection = CONNECTION
    const producer = new IdempotentProducer(admin, { clientId: `${conn.clientId}-produce`, connection, timeoutMs: 30_000, attempts: 6 })
    const appender = new Appender(producer, { maxBatchBytes: 768 * 1024, maxRequestBytes: 16 * 1024 * 1024 })
    const fetcher = new Fetcher(admin, `${conn.clientId}-fetch`, connection)
    return new KafkaEventLog(conn, { ...DEFAULT_RETENTION, ...options }, admin, producer, appender, fetcher)
  }

  async createTopic(topic: string, spec: TopicSpec): Promise<number> {
    const name = this.name(topic)
    try {
      const [created] = await this.admin.createTopics({
        topics: [name],
        partitions: spec.partitions,
        replicas: this.conn.replication,
        configs: [
          { name: 'message.timestamp.type', value: 'LogAppendTime' },
          { name: 'retention.ms', value: String(this.policy.retentionMs) },
          { name: 'retention.bytes', value: String(this.policy.retentionBytes) },
          // One append is one record batch (stored whole or not at all), and a collector request may
          // put 10,000 events of up to 10 MiB of JSON into one partition: above the broker's 1 MiB.
          { name: 'max.message.bytes', value: String(MAX_BATCH_BYTES) },
        ],
      })
      const count = created?.partitions ?? spec.partitions
      await this.untilVisible(name, count)
      this.partitions.set(topic, count)
      return count
    } catch (err) {
      if (!hasKafkaError(err, 'TOPIC_ALREADY_EXISTS')) throw err
    }
    // Another client created it a moment ago (two processes starting on one log): the broker answering
    // may not list it yet, nor have its partitions' leaders. Wait for it as for our own creation.
    const deadline = Date.now() + 30_000
    for (;;) {
      const existing = await this.partitionCount(topic)
      if (existing !== null) {
        await this.untilVisible(name, existing)
        return existing
      }
      if (Date.now() > deadline) throw new Error(`Kafka says topic "${name}" exists but reports no metadata for it within 30 s`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  async partitionCount(topic: string): Promise<number | null> {
    const name = this.name(topic)
    const topics = await this.admin.listTopics({ includeInternals: false })
    if (!topics.includes(name)) return null
    const metadata = await this.admin.metadata({ topics: [name], forceUpdate: true })
    const count = metadata.topics.get(name)?.partitionsCount ?? null
    if (count !== null) this.partitions.set(topic, count)
    return count
  }

  async append(topic: string, partition: number, records: readonly AppendRecord[]): Promise<AppendResult> {
    // Appends reach the appender in call order even when an early one must look its topic up first.
    const checked = this.appendOrder.then(() => this.check(topic, partition))
    this.appendOrder = checked.catch(() => undefined)
    await checked
    if (records.length === 0) return { baseOffset: (await this.offsets(topic, partition)).end, count: 0 }
    let bytes = 0
    for (const r of records) bytes += recordSize(r)
    return this.appender.append(this.name(topic), partition, records, bytes)
  }

  async read(topic: string, partition: number, offset: number, options: ReadOptions = {}): Promise<LogRecord[]> {
    return this.readWith(
      topic,
      partition,
      offset,
      options,
      () => [],
      (records, limits) => decodeRecords(records, { ...limits, keys: options.keys !== false }),
    )
  }

  /** As read(), as columns whose values stay in the fetch response (the engine's poll loop: no object or view per record). */
  async readBatch(topic: string, partition: number, offset: number, options: ReadOptions = {}): Promise<RecordBatch> {
    return this.readWith(
      topic,
      partition,
      offset,
      options,
      () => batchOfRecords([]),
      decodeRecordBatch,
      (batch, next) => {
        // Nothing but markers or aborted records was read over: the reader goes on past them.
        if (batch.count === 0 && next > offset) batch.next = next
      },
    )
  }

  /** One fetch from `offset` (or the start, when retention removed it) decoded by `decode`; `none` at or past the end. */
  private async readWith<T>(
    topic: string,
    partition: number,
    offset: number,
    options: ReadOptions,
    none: () => T,
    decode: (records: ResponseBytes, limits: { from: number; maxRecords: number; maxBytes: number }) => T,
    moved: (read: T, next: number) => void = () => undefined,
  ): Promise<T> {
    await this.check(topic, partition)
    const name = this.name(topic)
    const maxRecords = options.maxRecords ?? DEFAULT_MAX_RECORDS
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES
    let from = Math.max(0, offset)
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const { bytes, next } = await this.fetcher.fetchFrom({ topic: name, partition, offset: from, maxWaitMs: options.maxWaitMs ?? 0, maxRecords, maxBytes })
        const read = decode(bytes, { from, maxRecords, maxBytes })
        moved(read, next)
        return read
      } catch (err) {
        if (!hasKafkaError(err, 'OFFSET_OUT_OF_RANGE')) throw err
        // Before the start (retention removed it): read from the start, like auto.offset.reset=earliest.
        // At or past the end: nothing to read.
        const { start, end } = await this.offsets(topic, partition)
        if (from >= end || start >= end) return none()
        from = Math.max(from, start)
      }
    }
    return none()
  }

  async offsets(topic: string, partition: number): Promise<PartitionOffsets> {
    await this.check(topic, partition)
    const name = this.name(topic)
    const [start, end] = await Promise.all([this.listOffset(name, partition, EARLIEST), this.listOffset(name, partition, LATEST)])
    return { start: start ?? 0, end: end ?? 0 }
  }

  async commit(group: string, topic: string, partition: number, offset: number): Promise<void> {
    await this.check(topic, partition)
    await whileLoading(() =>
      this.admin.alterConsumerGroupOffsets({
        groupId: this.name(group),
        topics: [{ name: this.name(topic), partitionOffsets: [{ partition, offset: BigInt(offset) }] }],
      }),
    )
  }

  async committed(group: string, topic: string, partition: number): Promise<number | null> {
    await this.check(topic, partition)
    const name = this.name(topic)
    const [g] = await whileLoading(() =>
      this.admin.listConsumerGroupOffsets({
        groups: [{ groupId: this.name(group), topics: [{ name, partitionIndexes: [partition] }] }],
      }),
    )
    const found = g?.topics.find((t) => t.name === name)?.partitions.find((p) => p.partitionIndex === partition)
    return found === undefined || found.committedOffset < 0n ? null : Number(found.committedOffset)
  }

  /** Applies the policy to the topics this instance has created or looked up (never to others in the cluster). */
  async applyRetention(now: number = Date.now()): Promise<RetentionResult> {
    const topics = new Map<string, number>()
    for (const [topic, count] of this.partitions) topics.set(topic, count)
    return applyRetention(this.retentionOps(), topics, this.policy, now)
  }

  /** A transactional writer (transaction.ts): fences every earlier writer of the id, in any process. */
  async transactional(id: string): Promise<LogTransaction> {
    if (this.closed) throw new Error('the Kafka event log is closed')
    return KafkaTransaction.open({ admin: this.admin, clientId: this.conn.clientId, connection: CONNECTION, name: (t) => this.name(t), check: (t, p) => this.check(t, p) }, id)
  }

  /** A member of a consumer group over `topic` (group/group-member.ts: the classic protocol, cooperative rebalancing). */
  joinGroup(o: PartitionGroupOptions): PartitionGroup {
    if (this.closed) throw new Error('the Kafka event log is closed')
    const { group, topic, member, ...rest } = o
    // The member's name in its client id: kafka-consumer-groups --describe shows which worker holds what.
    return new GroupMember({ ...rest, admin: this.admin, clientId: `${this.conn.clientId}-worker-${member}`, connection: CONNECTION, groupId: this.name(group), topic: this.name(topic) })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.allSettled([this.producer.close(), this.fetcher.close(), this.admin.close()])
  }

  private name(topicOrGroup: string): string {
    return `${this.conn.prefix}${topicOrGroup}`
  }

  /** Rejects unknown topics and partitions up front: the producer would otherwise wrap the partition number. */
  private async check(topic: string, partition: number): Promise<void> {
    if (this.closed) throw new Error('the Kafka event log is closed')
    let count = this.partitions.get(topic)
    // Unknown here may be known to the cluster: created by another process, or partitions added.
    if (count === undefined || partition >= count) count = (await this.partitionCount(topic)) ?? undefined
    if (count === undefined) throw new UnknownTopicError(topic)
    if (!Number.isInteger(partition) || partition < 0 || partition >= count) throw new UnknownTopicError(topic, partition)
  }

  /**
   * The controller has the new topic when CreateTopics answers; brokers learn of it a moment later.
   * Waiting here means whoever is told the topic exists (this process or another) can use it at once.
   */
  private async untilVisible(name: string, partitions: number): Promise<void> {
    const deadline = Date.now() + 30_000
    for (;;) {
      if ((await this.admin.listTopics()).includes(name)) {
        const topic = (await this.admin.metadata({ topics: [name], forceUpdate: true })).topics.get(name)
        if (topic && topic.partitionsCount >= partitions && topic.partitions.every((p) => p.leader >= 0)) return
      }
      if (Date.now() > deadline) throw new Error(`topic "${name}" was created but no broker reported it within 30 s`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  private async listOffset(name: string, partition: number, timestamp: bigint): Promise<number | null> {
    // read_committed: the end is the last stable offset, what readers can reach (docs/kafka.md, "Transactions").
    const [t] = await this.admin.listOffsets({ topics: [{ name, partitions: [{ partitionIndex: partition, timestamp }] }], isolationLevel: READ_COMMITTED })
    const offset = t?.partitions.find((p) => p.partitionIndex === partition)?.offset
    return offset === undefined || offset < 0n ? null : Number(offset)
  }

  private retentionOps(): RetentionOps {
    return {
      offsets: (topic, p) => this.offsets(topic, p),
      offsetForTime: (topic, p, ts) => this.listOffset(this.name(topic), p, BigInt(Math.floor(ts))),
      diskBytes: async (topic) => {
        const name = this.name(topic)
        const count = this.partitions.get(topic) ?? 0
        const brokers = await this.admin.describeLogDirs({ topics: [{ name, partitions: Array.from({ length: count }, (_, i) => i) }] })
        const bytes = new Map<number, number>()
        for (const b of brokers) {
          for (const dir of b.results) {
            for (const t of dir.topics) {
              if (t.name !== name) continue
              for (const p of t.partitions) bytes.set(p.partitionIndex, Math.max(bytes.get(p.partitionIndex) ?? 0, Number(p.partitionSize)))
            }
          }
        }
        return bytes
      },
      scan: async (topic, p, from, to) => {
        const spans: BatchSpan[] = []
        for (let next = from; next < to;) {
          const batches = batchSpans(await this.fetcher.fetch({ topic: this.name(topic), partition: p, offset: next, maxWaitMs: 0, maxRecords: DEFAULT_MAX_RECORDS, maxBytes: 8 * 1024 * 1024 }))
          if (batches.length === 0) break
          for (const b of batches) if (b.first < to) spans.push(b)
          next = batches[batches.length - 1]!.last + 1
        }
        return spans
      },
      deleteBefore: async (topic, p, offset) => {
        await this.admin.deleteRecords({ topics: [{ name: this.name(topic), partitions: [{ partition: p, offset: BigInt(offset) }] }] })
        // A read from before the new start then starts there, not at records read ahead of the deletion.
        this.fetcher.forget(this.name(topic), p)
      },
    }
  }
}

/**
 * Group offsets live in __consumer_offsets, whose coordinator a freshly started broker is still
 * creating or loading for a while (COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS): retried
 * for up to about 20 s, beyond the client's own few retries.
 */
async function whileLoading<T>(op: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op()
    } catch (err) {
      if (attempt >= 20 || !isRetriable(err)) throw err
      await sleep(Math.min(1_000, 100 * attempt))
    }
  }
}
