import { DEFAULT_LIMITS, formatEventError, validateEvent, type TrackedEvent, type ValidationContext } from '../../events/index.ts'
import { appendEncoded, appendEvents } from '../../ingest/append-events.ts'
import { appendDeadLetters, type DeadLetter } from '../../ingest/dead-letters.ts'
import type { EventLog } from '../../log/event-log.ts'
import { Deduper } from './dedupe.ts'
import type { EncodedBody } from './fast-path.ts'
import { RequestIds } from './ids.ts'
import type { ParsedBody } from './parse.ts'

/** Dead letters written by the collector carry this source. */
export const HTTP_SOURCE = 'http'

/** One rejected event in a 200 answer: position in the request, `field: reason`, and the field. */
export interface RejectedEvent {
  index: number
  error: string
  field: string
}

/** The answer to an ingest request, sent once everything in it is durable. */
export interface IngestResult {
  accepted: number
  duplicates: number
  rejected: RejectedEvent[]
}

/** An ingest request sorted into what to append, what to dead-letter and what was a duplicate. */
export interface SortedBatch {
  events: TrackedEvent[]
  letters: DeadLetter[]
  rejected: RejectedEvent[]
  duplicates: number
  /** Dedupe keys claimed for `events`: commit them after the append, release them if it fails. */
  claimed: string[]
}

/**
 * Validates every candidate event once and claims client event ids. The loop allocates nothing per
 * event beyond the validated event itself (no closures). `ids` is given by tests that compare two
 * paths with the same id sequence.
 */
export function sortBatch(body: ParsedBody, tenant: string, receivedAt: number, deduper: Deduper, ids: RequestIds = new RequestIds(receivedAt)): SortedBatch {
  const vctx: ValidationContext = { tenant, receivedAt, limits: DEFAULT_LIMITS, makeId: ids.next }
  const prefix = Deduper.prefix(tenant)
  const items = body.items
  const events: TrackedEvent[] = []
  const claimed: string[] = []
  const rejected: RejectedEvent[] = []
  const letters: DeadLetter[] = []
  let duplicates = 0
  for (const e of body.early) {
    rejected.push({ index: e.index, error: `${e.field}: ${e.reason}`, field: e.field })
    letters.push(deadLetter(tenant, receivedAt, e.index, e.field, e.reason, e.raw))
  }
  for (let k = 0; k < items.length; k++) {
    const item = items[k]
    const r = validateEvent(item, vctx)
    if (!r.ok) {
      const index = body.position(k)
      rejected.push({ index, error: formatEventError(r.error), field: r.error.field })
      letters.push(deadLetter(tenant, receivedAt, index, r.error.field, r.error.reason, body.raw(k)))
      continue
    }
    // Only a client's own id is de-duplicated; validateEvent assigns fresh ids to the others.
    const id = (item as { event_id?: unknown }).event_id
    if (typeof id === 'string') {
      const key = prefix + id
      if (!deduper.claim(key, receivedAt)) {
        duplicates++
        continue
      }
      claimed.push(key)
    }
    events.push(r.event)
  }
  if (body.early.length > 0) {
    rejected.sort(byIndex)
    letters.sort(byIndex)
  }
  return { events, letters, rejected, duplicates, claimed }
}

function byIndex(a: { index: number }, b: { index: number }): number {
  return a.index - b.index
}

/**
 * Appends the good events and the dead letters; resolves once both are durable. Claimed ids become
 * seen only then; if the append fails they are released (a retry must not look like a duplicate).
 */
export function appendSorted(log: EventLog, partitions: number, sorted: SortedBatch, deduper: Deduper): Promise<void> {
  const events = sorted.events.length > 0 ? () => appendEvents(log, sorted.events, partitions) : null
  return appendBoth(log, partitions, events, sorted.letters, sorted.claimed, deduper)
}

/** appendSorted for a body the fast path has already encoded. */
export function appendEncodedBody(log: EventLog, partitions: number, body: EncodedBody, deduper: Deduper): Promise<void> {
  const events = body.count > 0 ? () => appendEncoded(log, body.groups) : null
  return appendBoth(log, partitions, events, body.letters, body.claimed, deduper)
}

async function appendBoth(log: EventLog, partitions: number, events: (() => Promise<unknown>) | null, letters: DeadLetter[], claimed: string[], deduper: Deduper): Promise<void> {
  try {
    if (events !== null && letters.length > 0) await Promise.all([events(), appendDeadLetters(log, letters, partitions)])
    else if (events !== null) await events()
    else await appendDeadLetters(log, letters, partitions)
  } catch (err) {
    deduper.release(claimed)
    throw err
  }
  deduper.commit(claimed, Date.now())
}

export function deadLetter(tenant: string, receivedAt: number, index: number, field: string, reason: string, raw: Uint8Array): DeadLetter {
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
  return { tenant, source: HTTP_SOURCE, received_at: receivedAt, index, field, reason, raw_base64: bytes.toString('base64') }
}
