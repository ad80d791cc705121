import { appendChunk, FileLines, type FileChunk } from '../ingest/file-lines.ts'
import { RequestIds } from '../ingest/ids.ts'
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

/**
 * Validates an NDJSON file line by line into the event log: the collector's byte-level reader, and
 * for lines it does not read the collector's sorter (the same validation, encoding and dead letters,
 * source `file:<path>`); bad lines go to the dead-letter log. Client event ids are not
 * de-duplicated: a file is a deliberate load, not a retry. Each chunk of about 1 MiB of lines is one
 * append; its events are acknowledged (counted) once durable.
 */
export async function ingestFile(log: EventLog, path: string, partitions: number, tenant = 'default'): Promise<IngestFileResult> {
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
        result.accepted += chunk.batch.accepted
        bar.update(bytesRead(), { info: `${result.accepted} accepted, ${result.rejected} rejected`, count: result.accepted })
      },
      (err: unknown) => {
        failure ??= err
      },
    )
    const tracked = p.finally(() => inFlight.delete(tracked))
    inFlight.add(tracked)
  }
  let index = 0
  try {
    for await (const chunk of chunks) {
      const receivedAt = Date.now()
      const options = { tenant, receivedAt, partitions, maxEvents: Number.POSITIVE_INFINITY, deduper: null, ids: new RequestIds(receivedAt), source }
      const read = FileLines.read(chunk, index, options)
      index += read.lines
      for (const r of read.batch.rejected) {
        result.rejected++
        if (result.samples.length < 5) result.samples.push({ line: r.index + 1, error: r.error })
      }
      if (read.batch.accepted > 0 || read.batch.letters.length > 0) append(read)
      while (inFlight.size >= APPENDS_IN_FLIGHT) await Promise.race(inFlight)
      if (failure !== null) throw failure
    }
    await Promise.all(inFlight)
    if (failure !== null) throw failure
  } finally {
    // A failed run leaves no append behind it unsettled (the log is closed next).
    await Promise.allSettled(inFlight)
    bar.stop()
  }
  result.seconds = (Date.now() - started) / 1000
  return result
}
