import { appendBatch } from '../ingest/append-batch.ts'
import { emptyBatch, type IngestBatch } from '../ingest/batch.ts'
import { RequestIds } from '../ingest/ids.ts'
import { RequestSorter } from '../ingest/sorter.ts'
import type { EventLog } from '../log/event-log.ts'
import { progressBar } from './progress.ts'
import { readLineBatches } from './read-lines.ts'

export interface IngestFileResult {
  accepted: number
  rejected: number
  seconds: number
  /** The first few rejections, for the user to see what was wrong. */
  samples: Array<{ line: number; error: string }>
}

/** Lines sorted before their events and dead letters are appended. */
const EVENTS_PER_APPEND = 5_000
const LETTERS_PER_APPEND = 1_000

/**
 * Validates an NDJSON file line by line into the event log, through the collector's sorter (the
 * same validation, encoding and dead letters, source `file:<path>`); bad lines go to the dead-letter
 * log. Client event ids are not de-duplicated: a file is a deliberate load, not a retry.
 */
export async function ingestFile(log: EventLog, path: string, partitions: number, tenant = 'default'): Promise<IngestFileResult> {
  const started = Date.now()
  const { batches, size, bytesRead } = readLineBatches(path)
  const bar = progressBar(size, 'bytes', 'ingest ')
  const result: IngestFileResult = { accepted: 0, rejected: 0, seconds: 0, samples: [] }
  const source = `file:${path}`
  const open = (): RequestSorter => {
    const receivedAt = Date.now()
    return new RequestSorter({ tenant, receivedAt, deduper: null, ids: new RequestIds(receivedAt), source }, emptyBatch(partitions))
  }
  let sorter = open()
  const flush = async (batch: IngestBatch) => {
    await appendBatch(log, partitions, batch, null)
    result.accepted += batch.accepted
    bar.update(bytesRead(), { info: `${result.accepted} accepted, ${result.rejected} rejected` })
  }
  let lineNo = 0
  for await (const lines of batches)
    for (const line of lines) {
      const index = lineNo++
      if (line.trim() === '') continue
      const rejectedBefore = sorter.out.rejected.length
      let item: unknown
      try {
        item = JSON.parse(line)
      } catch (err) {
        sorter.reject(index, { field: '(line)', reason: `invalid JSON: ${(err as Error).message}` }, Buffer.from(line))
      }
      if (item !== undefined) {
        const r = sorter.check(item)
        if (r !== null && r.ok) sorter.add(r.event)
        else if (r !== null) sorter.reject(index, r.error, Buffer.from(line))
      }
      const rejected = sorter.out.rejected[rejectedBefore]
      if (rejected !== undefined) {
        result.rejected++
        if (result.samples.length < 5) result.samples.push({ line: index + 1, error: rejected.error })
      }
      if (sorter.out.accepted >= EVENTS_PER_APPEND || sorter.out.letters.length >= LETTERS_PER_APPEND) {
        await flush(sorter.out)
        sorter = open()
      }
    }
  await flush(sorter.out)
  bar.stop()
  result.seconds = (Date.now() - started) / 1000
  return result
}
