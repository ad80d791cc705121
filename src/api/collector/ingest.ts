import { DEFAULT_LIMITS, formatEventError, validateEvent, type EventError, type TrackedEvent, type ValidationContext, type ValidationResult } from '../../events/index.ts'
import { appendEncoded, appendEvents } from '../../ingest/append-events.ts'
import { appendDeadLetters, type DeadLetter } from '../../ingest/dead-letters.ts'
import type { EventLog } from '../../log/event-log.ts'
import { MAX_FIELD_CHARS, MAX_MESSAGE_CHARS, bounded } from '../text-bounds.ts'
import { Deduper } from '../../ingest/dedupe.ts'
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
export interface SortedBatch extends SortOutcome {
  events: TrackedEvent[]
}

/** What sorting a request leaves besides its events: rejections with their dead letters, duplicates, claimed ids. */
export interface SortOutcome {
  letters: DeadLetter[]
  rejected: RejectedEvent[]
  duplicates: number
  /** Dedupe keys claimed for the events: commit them after the append, release them if it fails. */
  claimed: string[]
}

/**
 * Sorts one request's candidate events, one at a time, into `out`: the one place that says how a
 * candidate is validated, how a client's own event id is claimed, and how a rejection is recorded
 * (sortBatch and the fast path both go through it).
 */
export class RequestSorter {
  private readonly vctx: ValidationContext
  private readonly prefix: string

  constructor(
    private readonly tenant: string,
    private readonly receivedAt: number,
    private readonly deduper: Deduper,
    ids: RequestIds,
    readonly out: SortOutcome,
    /** The request's own sent_at (a {"batch": [...], "sent_at": …} body), epoch ms. */
    sentAt: number | undefined = undefined,
  ) {
    this.vctx = { tenant, receivedAt, limits: DEFAULT_LIMITS, makeId: ids.next, sentAt }
    this.prefix = Deduper.prefix(tenant)
  }

  /** Validates a candidate and claims its client id: the result, or null for a duplicate (counted). */
  check(item: unknown): ValidationResult | null {
    const r = validateEvent(item, this.vctx)
    if (!r.ok) return r
    // Only a client's own id is de-duplicated; validateEvent assigns fresh ids to the others.
    const id = (item as { event_id?: unknown }).event_id
    return typeof id === 'string' && !this.claim(id) ? null : r
  }

  /** Claims a client's own event id for this request; false (and counted) when it is a duplicate. */
  claim(id: string): boolean {
    const key = this.prefix + id
    if (!this.deduper.claim(key, this.receivedAt)) {
      this.out.duplicates++
      return false
    }
    this.out.claimed.push(key)
    return true
  }

  /** Records a rejected event at request position `index`, its bytes as sent kept as a dead letter. */
  reject(index: number, error: EventError, raw: Uint8Array): void {
    // A field path or reason may quote a property name of any size: bounded before it is echoed or stored.
    const field = bounded(error.field, MAX_FIELD_CHARS)
    const reason = bounded(error.reason, MAX_MESSAGE_CHARS)
    this.out.rejected.push({ index, error: formatEventError({ ...error, field, reason }), field })
    this.out.letters.push(deadLetter(this.tenant, this.receivedAt, index, field, reason, raw))
  }
}

/**
 * Validates every candidate event once and claims client event ids. The loop allocates nothing per
 * event beyond the validated event itself (no closures). `ids` is given by tests that compare two
 * paths with the same id sequence.
 */
export function sortBatch(body: ParsedBody, tenant: string, receivedAt: number, deduper: Deduper, ids: RequestIds = new RequestIds(receivedAt)): SortedBatch {
  const sorted: SortedBatch = { events: [], letters: [], rejected: [], duplicates: 0, claimed: [] }
  const sorter = new RequestSorter(tenant, receivedAt, deduper, ids, sorted, body.sentAt)
  for (const e of body.early) sorter.reject(e.index, e, e.raw)
  const items = body.items
  for (let k = 0; k < items.length; k++) {
    const r = sorter.check(items[k])
    if (r === null) continue
    if (r.ok) sorted.events.push(r.event)
    else sorter.reject(body.position(k), r.error, body.raw(k))
  }
  if (body.early.length > 0) {
    sorted.rejected.sort(byIndex)
    sorted.letters.sort(byIndex)
  }
  return sorted
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
  // field and reason are bounded (the raw bytes keep everything); raw_base64 is stored whole.
  return { tenant, source: HTTP_SOURCE, received_at: receivedAt, index, field: bounded(field, MAX_FIELD_CHARS), reason: bounded(reason, MAX_MESSAGE_CHARS), raw_base64: bytes.toString('base64') }
}
