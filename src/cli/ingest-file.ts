import { validateEvent, type TrackedEvent } from '../events/index.ts'
import { appendDeadLetters, type DeadLetter } from '../ingest/dead-letters.ts'
import { appendEvents } from '../ingest/append-events.ts'
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

/** Validates an NDJSON file line by line into the event log; bad lines go to the dead-letter log. */
export async function ingestFile(log: EventLog, path: string, partitions: number, tenant = 'default'): Promise<IngestFileResult> {
  const started = Date.now()
  const { batches, size, bytesRead } = readLineBatches(path)
  const bar = progressBar(size, 'bytes', 'ingest ')
  const result: IngestFileResult = { accepted: 0, rejected: 0, seconds: 0, samples: [] }
  let batch: TrackedEvent[] = []
  let dead: DeadLetter[] = []
  let lineNo = 0
  const flush = async () => {
    if (batch.length) result.accepted += (await appendEvents(log, batch, partitions)).count
    await appendDeadLetters(log, dead, partitions)
    batch = []
    dead = []
    bar.update(bytesRead(), { info: `${result.accepted} accepted, ${result.rejected} rejected` })
  }
  for await (const lines of batches) for (const line of lines) {
    const index = lineNo++
    if (line.trim() === '') continue
    let raw: unknown
    let field = '(line)'
    let reason = ''
    try {
      raw = JSON.parse(line)
      const v = validateEvent(raw, { tenant })
      if (v.ok) batch.push(v.event)
      else ({ field, reason } = v.error)
    } catch (err) {
      reason = `invalid JSON: ${(err as Error).message}`
    }
    if (reason) {
      result.rejected++
      if (result.samples.length < 5) result.samples.push({ line: index + 1, error: `${field}: ${reason}` })
      dead.push({ tenant, source: `file:${path}`, received_at: Date.now(), index, field, reason, raw_base64: Buffer.from(line).toString('base64') })
    }
    if (batch.length >= 5_000 || dead.length >= 1_000) await flush()
  }
  await flush()
  bar.stop()
  result.seconds = (Date.now() - started) / 1000
  return result
}
