import { mkdirSync, realpathSync } from 'node:fs'
import { BroadcastChannel } from 'node:worker_threads'
import { open, type Database, type RootDatabase } from 'lmdb'
import {
  DEFAULT_RETENTION,
  retentionCutoff,
  UnknownTopicError,
  type AppendRecord,
  type AppendResult,
  type EventLog,
  type LogRecord,
  type PartitionOffsets,
  type ReadOptions,
  type RecordFrame,
  type RecordBatch,
  type RetentionPolicy,
  type RetentionResult,
  type TopicSpec,
} from '../event-log.ts'
import { BatchBuilder, decodeFrame, encodeFrame, frameInfo } from './frame.ts'
import { Waiters } from './waiters.ts'

/*
 * Why LMDB rather than SQLite: appends are the hot path and LMDB's lmdb-js binding batches every put
 * issued while the previous commit is syncing into the next transaction — group commit for free —
 * and a fsync'd commit resolves each put's promise. Reads are zero-copy memory-mapped B-tree range
 * scans that never block the writer. SQLite (better-sqlite3) is synchronous: it would stall the event
 * loop during fsync and needs a native build on every install.
 */

export interface EmbeddedLogOptions extends Partial<RetentionPolicy> {
  /**
   * How often retention runs by itself; 0 disables the timer (default 60 s). With the timer on,
   * open() also applies retention once before it resolves: this handle is the one that keeps the
   * log (the server's main thread), and nothing expired is served after a restart.
   */
  retentionCheckMs?: number
}

interface PartitionState {
  /** Next offset to hand out; runs ahead of `end` while appends are in flight. */
  next: number
  /** Next offset after the last durable record. */
  end: number
  start: number
  bytes: number
}

interface TopicState {
  name: string
  batches: Database<Buffer, [number, number]>
  /** [partition, baseOffset] → f64 × 3: count, bytes, appendTime. Lets retention and startup skip the batch bodies. */
  index: Database<Buffer, [number, number]>
  partitions: PartitionState[]
}

/** Where a scan puts the records of each frame it visits. */
interface FrameReader {
  count(): number
  /** Adds a frame's records from `from` on, up to `max` in all; returns their value bytes. */
  frame(value: Buffer, baseOffset: number, from: number, max: number): number
  /** Drops records at or past `end`. */
  truncate(end: number): void
}

/** lmdb-js adds `flushed` to a put's promise when the store is opened with separateFlushed. */
type FlushablePromise = Promise<boolean> & { flushed?: Promise<unknown> }

const DEFAULT_MAX_RECORDS = 10_000
const DEFAULT_MAX_BYTES = 4 * 1024 * 1024
const END = Number.MAX_SAFE_INTEGER
/** After a failed write, how often an append may try again. */
const RETRY_AFTER_FAILURE_MS = 1_000

export class EmbeddedEventLog implements EventLog {
  private readonly topics = new Map<string, TopicState>()
  private readonly waiters = new Waiters()
  private readonly policy: RetentionPolicy
  private retentionTimer: NodeJS.Timeout | null = null
  private failure: Error | null = null
  private closed = false
  private inflight = new Set<Promise<unknown>>()
  /** When the last write failed, or the last retry after it began. */
  private failedAt = 0
  private healing: Promise<void> | null = null
  /**
   * Threads of one process may open the same log (the server appends events on the main thread and
   * the engine appends its outputs on its own). Each partition has one writer; appends are announced
   * on this channel so readers in other threads wake at once instead of polling.
   */
  private readonly channel: BroadcastChannel

  private constructor(
    private readonly root: RootDatabase,
    private readonly meta: Database<number | { partitions: number }, (string | number)[]>,
    options: EmbeddedLogOptions,
    dir: string,
  ) {
    this.channel = new BroadcastChannel(`tagstream-log:${dir}`)
    this.channel.unref()
    this.channel.onmessage = (msg) => this.onRemoteAppend((msg as { data: { topic: string; partition: number; end: number } }).data)
    this.policy = {
      retentionMs: options.retentionMs ?? DEFAULT_RETENTION.retentionMs,
      retentionBytes: options.retentionBytes ?? DEFAULT_RETENTION.retentionBytes,
    }
    const every = options.retentionCheckMs ?? 60_000
    if (every > 0) {
      this.retentionTimer = setInterval(() => void this.applyRetention().catch(() => undefined), every)
      this.retentionTimer.unref()
    }
  }

  static async open(dir: string, options: EmbeddedLogOptions = {}): Promise<EmbeddedEventLog> {
    mkdirSync(dir, { recursive: true })
    // overlappingSync lets the next transaction be written while the previous one is fsync'd;
    // separateFlushed gives each put a `flushed` promise, which is what an append waits for.
    const root = open({ path: dir, maxDbs: 256, overlappingSync: true, separateFlushed: true, compression: false })
    const meta = root.openDB<number | { partitions: number }, (string | number)[]>('meta', {})
    const log = new EmbeddedEventLog(root, meta, options, realpathSync(dir))
    for (const { key, value } of meta.getRange({ start: ['topic'] })) {
      if (key[0] !== 'topic') break
      const name = key[1]
      if (typeof name === 'string' && typeof value === 'object') await log.load(name, value.partitions)
    }
    // A log reopened after days off would otherwise serve expired records until the first tick.
    // A failure is the timer's too (it tries again every tick), so it must not keep the log shut.
    if (log.retentionTimer) await log.applyRetention().catch(() => undefined)
    return log
  }

  async createTopic(topic: string, spec: TopicSpec): Promise<number> {
    const existing = this.topics.get(topic)
    if (existing) return existing.partitions.length
    if (!Number.isInteger(spec.partitions) || spec.partitions < 1) throw new RangeError('partitions must be a positive integer')
    await this.meta.put(['topic', topic], { partitions: spec.partitions })
    await this.load(topic, spec.partitions)
    return spec.partitions
  }

  async partitionCount(topic: string): Promise<number | null> {
    return this.topics.get(topic)?.partitions.length ?? null
  }

  append(topic: string, partition: number, records: readonly AppendRecord[]): Promise<AppendResult> {
    return this.put(
      topic,
      partition,
      records.length,
      (now) => encodeFrame(records, now),
      () => this.append(topic, partition, records),
    )
  }

  appendFramed(topic: string, partition: number, frame: RecordFrame): Promise<AppendResult> {
    return this.put(
      topic,
      partition,
      frame.count,
      (now) => frame.seal(now),
      () => this.appendFramed(topic, partition, frame),
    )
  }

  /** Stores `count` records as one frame (made for the append time); `again` is the append, retried after a failure heals. */
  private put(topic: string, partition: number, count: number, frameAt: (now: number) => Buffer, again: () => Promise<AppendResult>): Promise<AppendResult> {
    if (this.failure) return this.afterFailure(again)
    if (this.closed) return Promise.reject(new Error('event log is closed'))
    const t = this.topics.get(topic)
    const p = t?.partitions[partition]
    if (!t || !p) return Promise.reject(new UnknownTopicError(topic, partition))
    if (count === 0) return Promise.resolve({ baseOffset: p.end, count: 0 })
    const baseOffset = p.next
    p.next += count
    const now = Date.now()
    const frame = frameAt(now)
    const body = t.batches.put([partition, baseOffset], frame) as FlushablePromise
    const entry = t.index.put([partition, baseOffset], indexEntry(count, frame.length, now)) as FlushablePromise
    // Committed is not enough for an acknowledgement: wait until the OS reports the pages on disk.
    // When a commit fails (a full disk) every one of these four rejects: each is handled here, or
    // the ones nobody awaits would be unhandled rejections and take the process down.
    // lmdb-js also hangs the write thread's own error on the rejection as `commitError`, a promise
    // that rejects later with the cause (ENOSPC, EIO): handled too.
    for (const q of [body, entry, body.flushed, entry.flushed]) q?.catch((e: unknown) => (e as { commitError?: Promise<unknown> } | null)?.commitError?.catch(() => undefined))
    const written = Promise.all([body, entry]).then(() => Promise.all([body.flushed, entry.flushed]))
    const done = written.then(
      () => {
        p.end = Math.max(p.end, baseOffset + count)
        p.bytes += frame.length
        this.waiters.wake(`${topic}/${partition}`)
        this.channel.postMessage({ topic, partition, end: p.end })
        return { baseOffset, count }
      },
      (err: unknown) => {
        // Stop appending: a later append must not commit past a lost batch. afterFailure() looks
        // again, from what is on disk, once the appends in flight have settled.
        absorbLmdbCommitFailures()
        this.failure ??= new Error(`the event log could not write to disk (${err instanceof Error ? err.message : String(err)}); if the disk is full, free space: appends resume by themselves`)
        this.failedAt = Date.now()
        throw this.failure
      },
    )
    this.track(done)
    return done
  }

  /**
   * After a failed write every append is refused with that failure, except that once a second, when
   * nothing is in flight, the log re-reads each partition's end from disk (a failed batch may or may
   * not have reached it) and tries again: when space returns, appends resume by themselves. No
   * append is acknowledged unless its own write succeeded.
   */
  private async afterFailure(again: () => Promise<AppendResult>): Promise<AppendResult> {
    const failure = this.failure!
    if (this.closed || Date.now() - this.failedAt < RETRY_AFTER_FAILURE_MS || this.inflight.size > 0) throw failure
    this.failedAt = Date.now()
    this.healing ??= this.rereadEnds().finally(() => (this.healing = null))
    try {
      await this.healing
    } catch {
      throw failure
    }
    this.failure = null
    return again()
  }

  /** Each partition's end as the disk has it: batches past the known end (a write whose acknowledgement failed) count. */
  private async rereadEnds(): Promise<void> {
    this.root.resetReadTxn()
    for (const t of this.topics.values()) {
      for (let partition = 0; partition < t.partitions.length; partition++) {
        const p = t.partitions[partition]!
        let end = p.end
        for (const { key, value } of t.batches.getRange({ start: [partition, p.end], end: [partition, END] })) {
          const info = frameInfo(value)
          if (t.index.get([partition, key[1]]) === undefined) await t.index.put([partition, key[1]], indexEntry(info.count, value.length, info.appendTime))
          end = key[1] + info.count
          p.bytes += value.length
        }
        p.next = end
        if (end > p.end) {
          p.end = end
          this.waiters.wake(`${t.name}/${partition}`)
          this.channel.postMessage({ topic: t.name, partition, end })
        }
      }
    }
  }

  async read(topic: string, partition: number, offset: number, options: ReadOptions = {}): Promise<LogRecord[]> {
    const out: LogRecord[] = []
    const keys = options.keys !== false
    await this.scan(topic, partition, offset, options, {
      count: () => out.length,
      frame: (value, base, from, max) => decodeFrame(value, base, from, out, max, keys),
      truncate: (end) => {
        // A batch committed after `end` was sampled is left for the next read, so offsets never skip.
        while (out.length > 0 && out[out.length - 1]!.offset >= end) out.pop()
      },
    })
    return out
  }

  async readBatch(topic: string, partition: number, offset: number, options: ReadOptions = {}): Promise<RecordBatch> {
    // Small to start: most reads of a live log are short (or empty), and the arrays grow by doubling.
    const out = new BatchBuilder(Math.min(options.maxRecords ?? DEFAULT_MAX_RECORDS, 256))
    await this.scan(topic, partition, offset, options, {
      count: () => out.count,
      frame: (value, base, from, max) => out.addFrame(value, base, from, max),
      truncate: (end) => out.truncate(end),
    })
    return out.build()
  }

  /** What read() and readBatch() share: where to start, waiting at the end, and snapshot retries. */
  private async scan(topic: string, partition: number, offset: number, options: ReadOptions, out: FrameReader): Promise<void> {
    const { t, p } = this.partition(topic, partition)
    const maxRecords = options.maxRecords ?? DEFAULT_MAX_RECORDS
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES
    if (offset >= p.end) this.refreshEnd(t, p, partition)
    if (offset >= p.end && (options.maxWaitMs ?? 0) > 0 && !this.closed) {
      await this.waiters.wait(`${topic}/${partition}`, options.maxWaitMs!)
    }
    const from = Math.max(offset, p.start)
    const end = p.end
    if (from >= end) return
    let bytes = 0
    let first = from
    for (const key of t.batches.getKeys({ start: [partition, from], end: [partition, -1], reverse: true, limit: 1 })) {
      first = key[1]
    }
    for (let attempt = 0; attempt < 2 && out.count() === 0; attempt++) {
      if (attempt > 0) {
        // The end says records exist but this snapshot does not show them: yield, then look again
        // with a fresh snapshot, never spinning on a stale one.
        await new Promise((resolve) => setImmediate(resolve))
        this.root.resetReadTxn()
      }
      for (const { key, value } of t.batches.getRange({ start: [partition, first], end: [partition, end] })) {
        bytes += out.frame(value, key[1], from, maxRecords)
        if (out.count() >= maxRecords || bytes >= maxBytes) break
      }
    }
    out.truncate(end)
  }

  async offsets(topic: string, partition: number): Promise<PartitionOffsets> {
    const { t, p } = this.partition(topic, partition)
    this.refreshEnd(t, p, partition)
    return { start: p.start, end: p.end }
  }

  async commit(group: string, topic: string, partition: number, offset: number): Promise<void> {
    this.partition(topic, partition)
    await this.meta.put(['offset', group, topic, partition], offset)
  }

  async committed(group: string, topic: string, partition: number): Promise<number | null> {
    this.partition(topic, partition)
    const v = this.meta.get(['offset', group, topic, partition])
    return typeof v === 'number' ? v : null
  }

  async applyRetention(now: number = Date.now()): Promise<RetentionResult> {
    const cutoff = retentionCutoff(now, this.policy.retentionMs)
    const result: RetentionResult = { deletedRecords: 0, deletedBytes: 0 }
    for (const [name, t] of this.topics) {
      for (let partition = 0; partition < t.partitions.length; partition++) {
        const p = t.partitions[partition]!
        const doomed: Array<{ base: number; count: number; bytes: number }> = []
        let bytes = p.bytes
        for (const { key, value } of t.index.getRange({ start: [partition, p.start], end: [partition, END] })) {
          const [count, size, appendTime] = readIndexEntry(value)
          if (appendTime >= cutoff && bytes <= this.policy.retentionBytes) break
          doomed.push({ base: key[1], count, bytes: size })
          bytes -= size
        }
        if (doomed.length === 0) continue
        const last = doomed[doomed.length - 1]!
        const newStart = last.base + last.count
        await this.root.transaction(() => {
          for (const d of doomed) {
            void t.batches.remove([partition, d.base])
            void t.index.remove([partition, d.base])
          }
          void this.meta.put(['start', name, partition], newStart)
        })
        p.start = newStart
        p.bytes = bytes
        for (const d of doomed) {
          result.deletedRecords += d.count
          result.deletedBytes += d.bytes
        }
      }
    }
    return result
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.channel.close()
    if (this.retentionTimer) clearInterval(this.retentionTimer)
    this.waiters.wakeAll()
    await Promise.allSettled([...this.inflight])
    await this.root.close()
  }

  /** Another thread appended: its records are committed and visible in LMDB already. */
  private onRemoteAppend(msg: { topic: string; partition: number; end: number }): void {
    const p = this.topics.get(msg.topic)?.partitions[msg.partition]
    if (!p || msg.end <= p.end) return
    // This thread's read snapshot may predate the other thread's commit (lmdb-js renews it only on
    // a later macrotask): start a fresh one, or a woken reader would see the new end but no records.
    this.root.resetReadTxn()
    p.end = msg.end
    if (p.next < msg.end) p.next = msg.end
    this.waiters.wake(`${msg.topic}/${msg.partition}`)
  }

  /** Picks up records another thread or process appended, from the index. */
  private refreshEnd(t: TopicState, p: PartitionState, partition: number): void {
    // This instance's own appends in flight are committed but not yet fsync'd: not readable yet.
    if (p.next !== p.end) return
    // A reader at the end asks because it expects news: look with a fresh snapshot, since lmdb-js
    // may still hold one from before another thread's commit.
    this.root.resetReadTxn()
    for (const { key, value } of t.index.getRange({ start: [partition, END], end: [partition, -1], reverse: true, limit: 1 })) {
      const end = key[1] + readIndexEntry(value)[0]
      if (end > p.end) {
        p.end = end
        if (p.next < end) p.next = end
        // Readers parked on this partition must hear of it: the other thread's own message may
        // arrive after this refresh and then be ignored as old news.
        this.waiters.wake(`${t.name}/${partition}`)
      }
    }
  }

  private track(p: Promise<unknown>): void {
    this.inflight.add(p)
    const drop = () => this.inflight.delete(p)
    p.then(drop, drop)
  }

  private partition(topic: string, partition: number): { t: TopicState; p: PartitionState } {
    const t = this.topics.get(topic)
    const p = t?.partitions[partition]
    if (!t || !p) throw new UnknownTopicError(topic, partition)
    return { t, p }
  }

  /** Rebuilds in-memory offsets from disk, repairing index entries a crash left unwritten. */
  private async load(topic: string, partitions: number): Promise<void> {
    const batches = this.root.openDB<Buffer, [number, number]>(`batches:${topic}`, { encoding: 'binary', keyEncoding: 'ordered-binary' })
    const index = this.root.openDB<Buffer, [number, number]>(`index:${topic}`, { encoding: 'binary', keyEncoding: 'ordered-binary' })
    const states: PartitionState[] = []
    for (let partition = 0; partition < partitions; partition++) {
      const storedStart = this.meta.get(['start', topic, partition])
      const start = typeof storedStart === 'number' ? storedStart : 0
      let end = start
      let bytes = 0
      let lastIndexed = -1
      for (const { key, value } of index.getRange({ start: [partition, start], end: [partition, END] })) {
        const [count, size] = readIndexEntry(value)
        end = key[1] + count
        bytes += size
        lastIndexed = key[1]
      }
      for (const { key, value } of batches.getRange({ start: [partition, lastIndexed + 1], end: [partition, END] })) {
        const info = frameInfo(value)
        await index.put([partition, key[1]], indexEntry(info.count, value.length, info.appendTime))
        end = key[1] + info.count
        bytes += value.length
      }
      states.push({ next: end, end, start, bytes })
    }
    this.topics.set(topic, { name: topic, batches, index, partitions: states })
  }
}

let absorbing = false

/**
 * When a commit fails (a full disk), lmdb-js rejects a promise of its own for the transaction that
 * no caller holds (found on a tmpfs: not one of the put promises this log awaits), and Node's
 * default for an unhandled rejection is to exit. The log has already turned the failure into its
 * own refusal and retries by itself, so from the first failure on, lmdb's commit failures (they
 * carry `commitError`) are absorbed; any other unhandled rejection is rethrown, which ends the
 * process exactly as the default would.
 */
function absorbLmdbCommitFailures(): void {
  if (absorbing) return
  absorbing = true
  process.on('unhandledRejection', (reason) => {
    if (typeof reason === 'object' && reason !== null && 'commitError' in reason) {
      ;(reason as { commitError?: Promise<unknown> }).commitError?.catch(() => undefined)
      return
    }
    // Another listener decides for everything else; with none, end the process as Node would.
    if (process.listenerCount('unhandledRejection') > 1) return
    throw reason
  })
}

function indexEntry(count: number, bytes: number, appendTime: number): Buffer {
  const b = Buffer.allocUnsafe(24)
  b.writeDoubleLE(count, 0)
  b.writeDoubleLE(bytes, 8)
  b.writeDoubleLE(appendTime, 16)
  return b
}

function readIndexEntry(b: Buffer): [number, number, number] {
  return [b.readDoubleLE(0), b.readDoubleLE(8), b.readDoubleLE(16)]
}
