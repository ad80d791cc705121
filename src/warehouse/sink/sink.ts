import { mkdirSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { appendDeadLetters, type DeadLetter } from '../../ingest/dead-letters.ts'
import { recordLetter } from '../../ingest/record-letter.ts'
import { LIVE_COMPACTION, type LiveCompactionPolicy } from './live-compaction.ts'
import { TOPICS, type EventLog, type RecordBatch } from '../../log/event-log.ts'
import { readRecordBatch } from '../../log/read-batch.ts'
import type { Logger } from '../../logger.ts'
import { TMP_EXT, partFileName } from '../layout.ts'
import { listPartFilesUnder, publish, removeFiles, type PartFile } from './files.ts'
import { ParquetWriter } from './parquet-writer.ts'
import type { PoisonRecord } from './poison.ts'
import { eventsTopic, type SinkFile, type SinkTopic } from './topics.ts'
import { trimPart } from './trim.ts'
import { eraseRecordsIn, eraseRows, type EraseRowsResult, type WarehouseErase } from './erase-rows.ts'

/** The NDJSON an output stream's file is made from, staged beside it; ends in TMP_EXT so recovery removes leftovers. */
const STAGING_EXT = '.stage' + TMP_EXT

export interface WarehouseSinkOptions {
  /** The topic copied and its layout; default the events (./topics.ts). */
  topic?: SinkTopic
  /** Consumer group whose committed offsets say what the warehouse holds; default the topic's (`warehouse` for events). */
  group?: string
  /** Pending rows are flushed this often. Default 5 s. */
  flushIntervalMs: number
  /**
   * Pending rows are also flushed once the log has had nothing new for this long (a burst ended),
   * so its last rows are queryable without waiting for the next interval. Steady traffic (something
   * new at least this often) only ever flushes on the interval. Default 500 ms; once BIG_BURST_ROWS
   * rows are pending, the running sink waits BIG_BURST_QUIET_MS at most (./run.ts).
   */
  quietFlushMs: number
  /** A partition is flushed as soon as it holds this many rows (cut exactly there). Default 200,000. */
  flushRows: number
  /** Records read per poll. Default 10,000. */
  batchSize: number
  /** Idle wait at the end of the log. Default 100 ms. */
  pollWaitMs: number
  /** Partitions this sink owns; default all of the events topic. */
  partitions?: number[]
  /** Days of data the warehouse keeps (UTC dates, as `dt`); older days are dropped. Default 3, as in seed 004. */
  retentionDays: number
  /** How often the running sink compacts finished days and applies retention. Default 1 h (and once at start). */
  maintenanceIntervalMs: number
  /**
   * Merging files while the sink writes (./live-compaction.ts), so a (day, event, partition) keeps a
   * bounded number of files however long the server runs; null turns it off. Default LIVE_COMPACTION.
   */
  liveCompaction: LiveCompactionPolicy | null
  /** DuckDB threads (output streams, merges, trims); default DuckDB's own (the core count). */
  threads?: number
  /**
   * Where the dead letters of poison records go. Default: appended to the `dead-letters` topic of
   * the log the sink reads, right where the log assigns offsets itself (Kafka) or the sink is the
   * only writer (`tagstream warehouse sync`). The embedded log counts offsets per handle, so a sink
   * thread beside the server's own writer hands them over instead (src/warehouse/thread/).
   */
  deadLetters?: (letters: DeadLetter[]) => Promise<void>
  /** The running sink (./run.ts) calls this after a timed or quiet flush, merge pass or maintenance changed the files (size cuts are told with the next of those). */
  onFilesChanged?: () => void
  logger?: Logger
}

export const DEFAULT_SINK_OPTIONS: WarehouseSinkOptions = {
  flushIntervalMs: 5_000,
  quietFlushMs: 500,
  flushRows: 200_000,
  batchSize: 10_000,
  pollWaitMs: 100,
  retentionDays: 3,
  maintenanceIntervalMs: 3_600_000,
  liveCompaction: LIVE_COMPACTION,
}

export interface WarehouseSinkStats {
  rowsWritten: number
  filesWritten: number
  flushes: number
  /** Property columns of a file some of whose values did not fit the column's type (kept in `_rescued`). */
  typeConflicts: number
  /** Records that could not be read: skipped, sent to the dead letters (docs/warehouse-sink.md). */
  poisonRecords: number
  /** Rows read and not yet flushed. */
  pendingRows: number
  /** Per partition, the committed next offset (everything before it is in the warehouse). */
  committed: Record<number, number>
  /** Files removed or trimmed on start because an earlier run wrote them and did not commit. */
  recoveredFiles: number
  /** Wall time of the last flush, ms. */
  lastFlushMs: number
  lastError: string | null
}

interface PreparedFlush {
  p: number
  first: number
  last: number
  rows: number
  files: SinkFile[]
  poison: PoisonRecord[]
  /** Erase records in the range (events only): their rows go before the commit. */
  erases: WarehouseErase[]
  started: number
}

/** Poison records logged one by one per flush; the rest are counted in one line. */
const MAX_POISON_LOG_LINES = 20

interface Pending {
  batches: RecordBatch[]
  rows: number
  /** Offset after the last record read, or null when nothing is pending. */
  next: number | null
}

/**
 * Copies a log topic (the events, or an output stream: ./topics.ts) into the Parquet layout of
 * ../layout.ts, exactly once per row:
 * - a flush of partition p covers [committed, last read]; its files are written under temp names,
 *   renamed into place, and only then is `committed` moved past them;
 * - on start, files of p at or beyond its committed offset (a flush that crashed before committing)
 *   are removed, and a file straddling it (compacted over uncommitted files) is trimmed, so the replay
 *   rewrites those ranges and nothing is counted twice.
 * Not safe for two sinks on the same partitions at once: one owner per partition, as for the engine.
 */
export class WarehouseSink {
  readonly options: WarehouseSinkOptions
  /** DuckDB, opened on first need (output streams, trimming): event files are encoded without it. */
  private writer: Promise<ParquetWriter> | null = null
  readonly topic: SinkTopic
  readonly group: string
  private partitions: number[] = []
  private readonly committed = new Map<number, number>()
  private readonly pending = new Map<number, Pending>()
  private readonly counters = { rowsWritten: 0, filesWritten: 0, flushes: 0, typeConflicts: 0, poisonRecords: 0, recoveredFiles: 0, lastFlushMs: 0 }
  /** Partitions of the dead-letter topic, once looked up; null when the log has none. */
  private deadLetterPartitions: Promise<number | null> | null = null
  private lastError: string | null = null
  private tail: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly log: EventLog,
    readonly root: string,
    options: Partial<WarehouseSinkOptions> = {},
  ) {
    this.options = { ...DEFAULT_SINK_OPTIONS, ...options }
    this.topic = options.topic ?? eventsTopic()
    this.group = options.group ?? this.topic.group
    if (!(this.options.flushRows >= 1)) throw new RangeError('flushRows must be at least 1')
  }

  /** Loads committed offsets and clears what an interrupted run left beyond them. */
  async open(): Promise<void> {
    const topic = this.topic.topic
    const count = await this.log.partitionCount(topic)
    if (count === null) throw new Error(`the log has no "${topic}" topic`)
    this.partitions = this.options.partitions ?? Array.from({ length: count }, (_, p) => p)
    for (const p of this.partitions) {
      const c = await this.log.committed(this.group, topic, p)
      this.committed.set(p, c ?? (await this.log.offsets(topic, p)).start)
      this.pending.set(p, { batches: [], rows: 0, next: null })
    }
    await mkdir(this.root, { recursive: true })
    await this.recover()
    await this.topic.open?.(this.root, () => this.duck(), this.options.logger)
  }

  private async recover(): Promise<void> {
    const { parts, temps } = await listPartFilesUnder(join(this.root, this.topic.dir))
    await removeFiles(temps)
    const owned = new Set(this.partitions)
    const stale: string[] = []
    const straddling: PartFile[] = []
    for (const f of parts) {
      if (!owned.has(f.partition)) continue
      const c = this.committed.get(f.partition)!
      if (f.first >= c) stale.push(f.path)
      else if (f.last >= c) straddling.push(f)
    }
    await removeFiles(stale)
    for (const f of straddling) await trimPart(await this.duck(), f, this.committed.get(f.partition)! - 1)
    const n = stale.length + straddling.length + temps.length
    this.counters.recoveredFiles += n
    if (n > 0) this.options.logger?.warn({ removed: stale.length, trimmed: straddling.length, temps: temps.length }, 'warehouse sink: cleared files of an uncommitted flush')
  }

  private duck(): Promise<ParquetWriter> {
    return (this.writer ??= ParquetWriter.open(this.options.threads === undefined ? {} : { threads: this.options.threads }))
  }

  /** Runs fn after everything queued before it: reads and flushes never interleave. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn)
    this.tail = run.catch(() => undefined)
    return run
  }

  /** Reads one batch from every partition; a partition reaching flushRows is flushed right there. */
  poll(): Promise<number> {
    return this.serial(async () => {
      let total = 0
      for (const p of this.partitions) {
        const pend = this.pending.get(p)!
        const next = this.nextOffset(p)
        const room = this.options.flushRows - pend.rows
        const batch = await readRecordBatch(this.log, this.topic.topic, p, next, { maxRecords: Math.min(this.options.batchSize, room) })
        if (batch.count > 0) {
          pend.batches.push(batch)
          pend.rows += batch.count
          pend.next = batch.offsets[batch.count - 1]! + 1
        } else if (batch.next !== undefined && batch.next > next) {
          // Past a transaction's markers (an output topic a worker writes in transactions): no rows, a new position.
          pend.next = batch.next
        }
        total += batch.count
        if (pend.rows >= this.options.flushRows) await this.flushPartition(p)
      }
      return total
    })
  }

  /** Flushes every partition's pending rows. */
  flush(): Promise<void> {
    return this.serial(async () => {
      // The next partition's files are built while the previous ones are fsync'd, renamed and
      // committed (partitions commit independently), and while DuckDB writes an output stream's.
      const writing: Array<Promise<void>> = []
      let failure: { err: unknown } | null = null
      try {
        for (const p of this.partitions) {
          const prepared = this.prepare(p)
          if (!prepared) continue
          let started = (): void => undefined
          const submitted = new Promise<void>((resolve) => (started = resolve))
          writing.push(this.writeFlush(prepared, started))
          await submitted
        }
      } catch (err) {
        failure = { err }
      }
      // Every flush started is seen through (published and committed, or cleaned up) before returning.
      for (const r of await Promise.allSettled(writing)) if (r.status === 'rejected') failure ??= { err: r.reason }
      if (failure) throw failure.err
    })
  }

  /** True when every partition's committed offset has reached the end of the log as it is now. */
  async caughtUp(): Promise<boolean> {
    for (const p of this.partitions) {
      if (this.committed.get(p)! < (await this.log.offsets(this.topic.topic, p)).end) return false
    }
    return true
  }

  /** Whether some partition has records beyond what has been read. */
  async behind(): Promise<boolean> {
    for (const p of this.partitions) {
      if (this.nextOffset(p) < (await this.log.offsets(this.topic.topic, p)).end) return true
    }
    return false
  }

  private nextOffset(p: number): number {
    return this.pending.get(p)!.next ?? this.committed.get(p)!
  }

  private async flushPartition(p: number): Promise<void> {
    const prepared = this.prepare(p)
    if (prepared) await this.writeFlush(prepared)
  }

  /**
   * Turns a partition's pending rows into the files' contents and clears them. If the write then
   * fails, the rows are simply read again from the committed offset.
   */
  private prepare(p: number): PreparedFlush | null {
    const pend = this.pending.get(p)!
    if (pend.next === null) return null
    const started = performance.now()
    const first = this.committed.get(p)!
    const last = pend.next - 1
    const poison: PoisonRecord[] = []
    const files = this.topic.files(pend.batches, poison, p)
    const erases = this.topic.topic === TOPICS.events ? eraseRecordsIn(pend.batches, p) : []
    const rows = pend.rows
    this.pending.set(p, { batches: [], rows: 0, next: null })
    return { p, first, last, rows, files, poison, erases, started }
  }

  /**
   * Writes a prepared flush's files, largest first, then publishes and commits. `submitted` is
   * called once the largest file is written or handed to DuckDB (or on failure): the caller may then
   * build the next partition's files meanwhile.
   */
  private async writeFlush({ p, first, last, rows, files, poison, erases, started }: PreparedFlush, submitted: () => void = () => undefined): Promise<void> {
    const name = partFileName(p, first, last)
    const moves: Array<{ tmp: string; path: string; dir: string }> = []
    let conflicts = 0
    try {
      for (const f of [...files].sort((a, b) => b.rows - a.rows)) {
        const dir = join(this.root, this.topic.dir, ...f.dirs)
        mkdirSync(dir, { recursive: true })
        const path = join(dir, name)
        const tmp = path + TMP_EXT
        const writing = f.write(() => this.duck(), tmp, path + STAGING_EXT, p)
        submitted()
        await writing
        moves.push({ tmp, path, dir })
        if (f.conflicts.length > 0) {
          conflicts += f.conflicts.length
          this.options.logger?.warn({ file: path, columns: f.conflicts }, 'warehouse sink: values that do not fit their column type kept in _rescued')
        }
      }
      submitted()
      // Column types this flush established are durable before any file that relies on them is visible.
      await this.topic.beforePublish?.()
      await publish(moves)
      // Before the commit: a crash in between replays the range and sends them again (at least once;
      // topic, partition and offset tell the copies apart), never loses them.
      await this.deadLetter(p, poison)
      // Before the commit: a crash in between reads the records again and erases again.
      for (const e of erases) await eraseRows(await this.duck(), this.root, e, this.options.logger)
    } catch (err) {
      submitted()
      await removeFiles(moves.map((m) => m.tmp))
      this.lastError = (err as Error).message
      throw err
    }
    await this.log.commit(this.group, this.topic.topic, p, last + 1)
    this.committed.set(p, last + 1)
    this.counters.rowsWritten += rows
    this.counters.filesWritten += moves.length
    this.counters.flushes++
    this.counters.typeConflicts += conflicts
    this.counters.poisonRecords += poison.length
    this.counters.lastFlushMs = performance.now() - started
    this.options.logger?.debug({ partition: p, first, last, rows, files: moves.length, ms: this.counters.lastFlushMs }, 'warehouse flush')
  }

  /**
   * Records of a flush that could not be read: logged (partition, offset, reason) and appended to the
   * dead-letter log, the only trace of them in the warehouse's output. The flush's files do not
   * depend on it: a replay of the range skips the same records and writes the same files.
   */
  private async deadLetter(p: number, poison: readonly PoisonRecord[]): Promise<void> {
    if (poison.length === 0) return
    const topic = this.topic.topic
    const logger = this.options.logger
    for (const r of poison.slice(0, MAX_POISON_LOG_LINES)) logger?.warn({ topic, partition: p, offset: r.offset, reason: r.reason }, 'warehouse sink: record skipped, sent to the dead letters')
    if (poison.length > MAX_POISON_LOG_LINES) logger?.warn({ topic, partition: p, more: poison.length - MAX_POISON_LOG_LINES }, 'warehouse sink: more records skipped')
    const letters = poison.map((r) =>
      recordLetter('warehouse-sink', { tenant: r.tenant, field: '(record)', reason: r.reason }, { topic, partition: p, offset: r.offset, timestamp: r.timestamp }, r.raw),
    )
    if (this.options.deadLetters) return this.options.deadLetters(letters)
    const partitions = await (this.deadLetterPartitions ??= this.log.partitionCount(TOPICS.deadLetters))
    if (partitions !== null && partitions > 0) await appendDeadLetters(this.log, letters, partitions)
  }

  /** Rewrites the files of every topic without an erased person's rows (./erase-rows.ts), after queued reads and flushes. */
  erase(e: WarehouseErase): Promise<EraseRowsResult> {
    return this.serial(async () => eraseRows(await this.duck(), this.root, e, this.options.logger))
  }

  /** Rows read and not yet flushed, every partition together. */
  get pendingRows(): number {
    let rows = 0
    for (const pend of this.pending.values()) rows += pend.rows
    return rows
  }

  stats(): WarehouseSinkStats {
    return { ...this.counters, pendingRows: this.pendingRows, committed: Object.fromEntries(this.committed), lastError: this.lastError }
  }

  noteError(err: unknown): void {
    this.lastError = err instanceof Error ? err.message : String(err)
  }

  /** Waits for queued work, then closes DuckDB. Pending rows that were not flushed are dropped (they are re-read next time). */
  async close(): Promise<void> {
    await this.serial(async () => undefined)
    const writer = this.writer
    this.writer = null
    await writer?.then(
      (w) => w.close(),
      () => undefined,
    )
  }
}
