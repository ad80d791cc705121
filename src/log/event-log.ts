import type { Logger } from '../logger.ts'

/**
 * The event log port: an append-only, partitioned, offset-addressed log with consumer-group offsets,
 * modelled on Kafka so the embedded adapter and the Kafka adapter are interchangeable.
 * Every adapter passes test/log/event-log-contract.ts.
 */

export interface AppendRecord {
  /** Partition key (`tenant:user_id` for events); kept with the record, not used to route it. */
  key: string | null
  value: Uint8Array
  /** Record time in epoch ms; defaults to the append time. */
  timestamp?: number
}

export interface LogRecord {
  offset: number
  key: string | null
  value: Uint8Array
  timestamp: number
}

/**
 * Records of one partition laid out as columns, for bulk readers (the warehouse sink) that would
 * otherwise pay an object and a Buffer view per record. Record i has offset `offsets[i]`, time
 * `timestamps[i]`, and its value is bytes `starts[i]` .. `ends[i]` of `chunks[chunkOf[i]]`.
 */
export interface RecordBatch {
  count: number
  offsets: Float64Array
  timestamps: Float64Array
  chunks: Uint8Array[]
  chunkOf: Uint32Array
  starts: Uint32Array
  ends: Uint32Array
  /**
   * Where the next read starts when it is not after the last record: set (by the Kafka adapter)
   * when a read went over transaction markers or aborted records and found no record. A reader
   * that compares its position with `offsets().end` goes on from here, or it would stay a marker
   * short of the end.
   */
  next?: number
}

/** Records already laid out as the embedded log stores a batch (FramedRecords in ./framed.ts). */
export interface RecordFrame {
  readonly count: number
  /** The frame's bytes, its header filled for `appendTime`. */
  seal(appendTime: number): Buffer
  /** The records it holds, for an adapter that takes records. */
  records(): AppendRecord[]
}

export interface AppendResult {
  /** Offset of the first record; the batch holds baseOffset .. baseOffset + count - 1. */
  baseOffset: number
  count: number
}

export interface ReadOptions {
  /** Stop after this many records (default 10,000). */
  maxRecords?: number
  /** Stop after this many value bytes, always returning at least one record (default 4 MiB). */
  maxBytes?: number
  /** When nothing is there yet, wait this long for an append before returning empty (default 0). */
  maxWaitMs?: number
  /** false: records come back with `key: null`, sparing readers that never look at keys a decode. */
  keys?: boolean
}

export interface PartitionOffsets {
  /** First offset still stored (retention moves it forward). */
  start: number
  /** Next offset to be written: the log holds start .. end - 1. */
  end: number
}

export interface TopicSpec {
  partitions: number
}

export interface RetentionResult {
  deletedRecords: number
  deletedBytes: number
}

export interface EventLog {
  /** Creates the topic when missing and returns its partition count; an existing topic keeps its own. */
  createTopic(topic: string, spec: TopicSpec): Promise<number>
  /** Partition count of a topic, or null when it does not exist. */
  partitionCount(topic: string): Promise<number | null>
  /**
   * Appends records to one partition in order. Resolves only once the records are durable: a
   * collector may acknowledge its client at that moment. Rejects when the topic or partition is unknown.
   * Appends to one partition issued without waiting for the earlier ones still take offsets in call
   * order (the engine pipelines its outputs on this).
   */
  append(topic: string, partition: number, records: readonly AppendRecord[]): Promise<AppendResult>
  /**
   * The same as append() for records already laid out as a frame (./framed.ts). Optional:
   * appendFramed (./framed.ts) gives an adapter without it the records instead.
   */
  appendFramed?(topic: string, partition: number, frame: RecordFrame): Promise<AppendResult>
  /**
   * Reads records from `offset` on. An offset before the start (removed by retention) reads from the
   * start, like Kafka's auto.offset.reset=earliest; an offset at or past the end returns nothing.
   */
  read(topic: string, partition: number, offset: number, options?: ReadOptions): Promise<LogRecord[]>
  /**
   * The same records as read() with the same options (keys are never returned), as columns. Optional:
   * readRecordBatch (./read-batch.ts) falls back to read() for an adapter without it.
   */
  readBatch?(topic: string, partition: number, offset: number, options?: ReadOptions): Promise<RecordBatch>
  offsets(topic: string, partition: number): Promise<PartitionOffsets>
  /** Stores a consumer group's next offset to read. */
  commit(group: string, topic: string, partition: number, offset: number): Promise<void>
  /** A consumer group's committed next offset, or null when it has none. */
  committed(group: string, topic: string, partition: number): Promise<number | null>
  /** Removes records older than the age limit or beyond the size limit, oldest first. */
  applyRetention(now?: number): Promise<RetentionResult>
  /**
   * A transactional writer for `id` (docs/kafka.md, "Transactions"). Opening it fences every
   * earlier writer of the same id, wherever it runs, and aborts whatever that writer had not
   * committed. Optional: the embedded log has one process writing each partition, and offers none.
   */
  transactional?(id: string): Promise<LogTransaction>
  /**
   * Membership of a group of processes sharing one topic's partitions (docs/kafka.md, "Worker
   * groups"): the log's own group protocol decides who owns which partition. Optional: the embedded
   * log has no group coordinator, and its workers share partitions through Postgres leases.
   */
  joinGroup?(options: PartitionGroupOptions): PartitionGroup
  close(): Promise<void>
}

/** What a member of a partition group is told, and how often it proves it is alive. */
export interface PartitionGroupOptions {
  /** The group's name, without the log's prefix (the log adds it, as to topics). */
  group: string
  /** The topic whose partitions the members share, without the prefix. */
  topic: string
  partitions: number
  /** This member's name, shown to operators (Kafka: in the client id). */
  member: string
  /** A member heard from for no longer than this is dropped and its partitions move on. */
  sessionTimeoutMs: number
  heartbeatMs: number
  /** How long a rebalance waits for the members to rejoin (each has this long to hand over what it gives up). */
  rebalanceTimeoutMs: number
  logger: Logger
  /** Partitions now this member's. */
  onAssigned(partitions: number[]): void | Promise<void>
  /** Partitions this member gives up: they stay its own until the returned promise settles. */
  onRevoked(partitions: number[]): Promise<void>
}

export interface PartitionGroup {
  /** Joins; resolves once the first assignment has been applied (possibly nothing). Rejects when the group refuses this member. */
  start(): Promise<void>
  /** Revokes everything (awaited), then leaves, so the others take over at once. */
  stop(): Promise<void>
  /** The partitions this member holds now, in order. */
  owned(): number[]
  /** The generation of the group this member last joined (grows with every rebalance). */
  readonly generation: { id: number; memberId: string }
}

/**
 * Who wrote under a transactional id: issued by the log (Kafka's producer id and epoch), and
 * greater for every writer opened later with the same id (tokenAfter). A store that keeps the
 * token beside what a writer wrote can refuse a fenced writer's late writes (docs/deployment.md).
 */
export interface WriterToken {
  producerId: number
  epoch: number
}

/** True when `a` was issued after `b`. Kafka hands out producer ids in increasing blocks and bumps the epoch within one. */
export function tokenAfter(a: WriterToken, b: WriterToken): boolean {
  return a.producerId > b.producerId || (a.producerId === b.producerId && a.epoch > b.epoch)
}

/**
 * Appends that readers see all together, at commit, or never. A transaction begins with the first
 * append after the writer opened or last committed. A failed append or commit leaves the writer
 * unusable: abort (best effort) and open a new one.
 */
export interface LogTransaction {
  readonly id: string
  readonly token: WriterToken
  /** As EventLog.append, inside the open transaction: resolves once the log holds the records, unseen by readers until the commit. */
  append(topic: string, partition: number, records: readonly AppendRecord[]): Promise<AppendResult>
  /** Waits for the appends issued so far, then makes them visible at once. Rejects with WriterFencedError once a newer writer opened. */
  commit(): Promise<void>
  /** Drops what was appended since the last commit. */
  abort(): Promise<void>
  close(): Promise<void>
}

/** A newer writer with the same transactional id was opened: this one can no longer write. */
export class WriterFencedError extends Error {
  constructor(id: string, cause?: unknown) {
    super(`transactional writer "${id}" was fenced: a newer writer with the same id has opened`, { cause })
    this.name = 'WriterFencedError'
  }
}

export interface RetentionPolicy {
  /** Records older than this (by append time) are removed. Default 3 days, as in seed 004. */
  retentionMs: number
  /** Bytes kept per partition; the oldest records beyond it are removed. Default 4 GiB. */
  retentionBytes: number
}

const DAY_MS = 86_400_000

/**
 * The oldest append time retention keeps at `now`, for every adapter. The age limit works like
 * BigQuery's partition expiration over days of append time (UTC), as the warehouse's days do
 * (src/warehouse/retention.ts): a day's records go once its 00:00 UTC plus `retentionMs` has
 * passed. With `serve --retention-days N` (retentionMs = N days) that is 00:00 UTC of the
 * warehouse's first kept day, so the log and the warehouse keep the same days; records appended
 * earlier belong to expired days.
 */
export function retentionCutoff(now: number, retentionMs: number): number {
  return (Math.floor((now - retentionMs) / DAY_MS) + 1) * DAY_MS
}

export const DEFAULT_RETENTION: RetentionPolicy = {
  retentionMs: 3 * 24 * 60 * 60 * 1000,
  retentionBytes: 4 * 1024 ** 3,
}

/** Topic names used by the product. */
export const TOPICS = {
  events: 'events',
  segmentChanges: 'segment-changes',
  notifications: 'notifications',
  /** Identity links made by the engine (docs/identity.md): what the warehouse's `identities` view reads. */
  identities: 'identities',
  deadLetters: 'dead-letters',
  /** Messages for players from `emit: player` triggers (docs/streams.md): what the inboxes are filled from. */
  playerNotifications: 'player-notifications',
} as const

/** The log of an event stream (docs/streams.md, "Event streams"): `buy` → `buy-events`. */
export function eventStreamTopic(stream: string): string {
  return `${stream}-events`
}

export const DEFAULT_PARTITIONS = 8

export class UnknownTopicError extends Error {
  constructor(topic: string, partition?: number) {
    super(partition === undefined ? `unknown topic "${topic}"` : `unknown partition ${partition} of topic "${topic}"`)
    this.name = 'UnknownTopicError'
  }
}
