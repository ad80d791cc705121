import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { appendChunk, FileLines, type FileChunk, type FileChunkDone, type FileChunkJob } from '../ingest/file-lines.ts'
import { DEFAULT_EVENTS_FORMAT, type EventsFormat } from '../events/index.ts'
import { FramedRecords } from '../log/framed.ts'
import { countLines, OrderedPool, shareable } from '../ordered-pool.ts'
import { threadScript } from '../thread-script.ts'
import type { EventLog } from '../log/event-log.ts'
import { progressBar } from './progress.ts'
import { readLineChunks } from './read-lines.ts'

export interface IngestFileResult {
  accepted: number
  rejected: number
  seconds: number
  /** The first few rejections, for the user to see what was wrong. */
  samples: Array<{ line: number; error: string }>
}

/**
 * Appends in flight while the next chunk is read: reading and encoding (this thread) overlap the
 * log's writes (LMDB's write thread, or the broker). A few are enough to keep both busy; more would
 * only hold more of the file in memory.
 */
const APPENDS_IN_FLIGHT = 3
/** Reader threads, for files of at least THREADS_FROM_BYTES (a smaller one is read here: starting threads would cost more). */
const READ_THREADS = 2
const THREADS_FROM_BYTES = 4 << 20

const here = dirname(fileURLToPath(import.meta.url))

/**
 * Validates an NDJSON file line by line into the event log: the collector's byte-level reader, and
 * for lines it does not read the collector's sorter (the same validation, encoding and dead letters,
 * source `file:<path>`); bad lines go to the dead-letter log. Client event ids are not
 * de-duplicated: a file is a deliberate load, not a retry. Each chunk of about 1 MiB of lines is one
 * append; its events are acknowledged (counted) once durable.
 */
export async function ingestFile(log: EventLog, path: string, partitions: number, tenant = 'default', opts: { threads?: boolean; eventsFormat?: EventsFormat } = {}): Promise<IngestFileResult> {
  const eventsFormat = opts.eventsFormat ?? DEFAULT_EVENTS_FORMAT
  const started = Date.now()
  const { chunks, size, bytesRead } = readLineChunks(path)
  const bar = progressBar(size, 'bytes', 'ingest ', 'events')
  const result: IngestFileResult = { accepted: 0, rejected: 0, seconds: 0, samples: [] }
  const source = `file:${path}`
  const inFlight = new Set<Promise<void>>()
  let failure: unknown = null
  const append = (chunk: FileChunk) => {
    const p = appendChunk(log, partitions, chunk).then(
      () => {
        result.accepted += chunk.accepted
        bar.update(bytesRead(), { info: `${result.accepted} accepted, ${result.rejected} rejected`, count: result.accepted })
      },
      (err: unknown) => {
        failure ??= err
      },
    )
    const tracked = p.finally(() => inFlight.delete(tracked))
    inFlight.add(tracked)
  }
  // Files of 4 MiB or more: two reader threads read alternate chunks (each with its own receive
  // time and ids), taken back in file order; this thread numbers the lines and appends.
  const pool =
    (opts.threads ?? size >= THREADS_FROM_BYTES)
      ? new OrderedPool<FileChunkJob, FileChunkDone>(threadScript(join(here, '../ingest/file-lines-thread.ts'), 'ingest-reader-thread'), READ_THREADS, 'an ingest reader')
      : null
  const take = (read: FileChunk) => {
    for (const r of read.rejected) {
      result.rejected++
      if (result.samples.length < 5) result.samples.push({ line: r.index + 1, error: r.error })
    }
    if (read.accepted > 0 || read.letters.length > 0) append(read)
  }
  const settle = async () => {
    while (inFlight.size >= APPENDS_IN_FLIGHT) await Promise.race(inFlight)
    if (failure !== null) throw failure
  }
  const fromThread = (d: FileChunkDone): FileChunk => ({ ...d, frames: d.frames.map((f) => FramedRecords.of(f.buffer, f.used, f.count)) })
  let index = 0
  try {
    for await (const chunk of chunks) {
      const receivedAt = Date.now()
      if (pool === null) {
        const read = FileLines.chunk(chunk, index, FileLines.options(tenant, receivedAt, partitions, source, eventsFormat))
        index += read.lines
        take(read)
        await settle()
        continue
      }
      pool.send({ ...shareable(chunk), firstIndex: index, tenant, receivedAt, partitions, source, eventsFormat })
      index += countLines(chunk)
      while (pool.full) {
        take(fromThread(await pool.take()))
        await settle()
      }
    }
    while (pool !== null && pool.pending > 0) {
      take(fromThread(await pool.take()))
      await settle()
    }
    await Promise.all(inFlight)
    if (failure !== null) throw failure
  } finally {
    // A failed run leaves no append behind it unsettled (the log is closed next).
    await Promise.allSettled(inFlight)
    await pool?.close()
    bar.stop()
  }
  result.seconds = (Date.now() - started) / 1000
  return result
}
