import { DEFAULT_LIMITS, formatEventError, validateEvent, type EventError, type EventsFormat, type TrackedEvent, type ValidationContext, type ValidationResult } from '../events/index.ts'
import { groupEvent } from './append-events.ts'
import { emptyBatch, type IngestBatch } from './batch.ts'
import { HTTP_SOURCE, inputLetter } from './dead-letters.ts'
import { Deduper } from './dedupe.ts'
import { RequestIds } from './ids.ts'
import type { ParsedBody } from './parse.ts'
import { MAX_FIELD_CHARS, MAX_MESSAGE_CHARS, bounded } from './text-bounds.ts'

/** Where a sorter's events come from and how they are told apart. */
export interface SorterOptions {
  tenant: string
  receivedAt: number
  /** Claims client event ids; null where duplicates are not dropped (file ingest). */
  deduper: Deduper | null
  ids: RequestIds
  /** The request's own sent_at (a {"batch": [...], "sent_at": …} body), epoch ms. */
  sentAt?: number
  /** Dead letters' source: HTTP_SOURCE by default, `file:<path>` for a file. */
  source?: string
  /** How accepted events are stored (src/events/events-format.ts); default DEFAULT_EVENTS_FORMAT. */
  eventsFormat?: EventsFormat
}

/**
 * Sorts one request's candidate events, one at a time, into a batch: the one place that says how a
 * candidate is validated, how a client's own event id is claimed, how an accepted event is encoded
 * and how a rejection is recorded (sortBatch, the fast path's slow elements and file ingest all go
 * through it).
 */
export class RequestSorter {
  private readonly vctx: ValidationContext
  private readonly prefix: string
  private readonly source: string

  constructor(
    private readonly o: SorterOptions,
    readonly out: IngestBatch,
  ) {
    this.vctx = { tenant: o.tenant, receivedAt: o.receivedAt, limits: DEFAULT_LIMITS, makeId: o.ids.next, sentAt: o.sentAt }
    this.prefix = Deduper.prefix(o.tenant)
    this.source = o.source ?? HTTP_SOURCE
  }

  /** Validates a candidate and claims its client id: the result, or null for a duplicate (counted). */
  check(item: unknown): ValidationResult | null {
    this.out.validated++
    const r = validateEvent(item, this.vctx)
    if (!r.ok) return r
    // Only a client's own id is de-duplicated; validateEvent assigns fresh ids to the others.
    const id = (item as { event_id?: unknown }).event_id
    return typeof id === 'string' && !this.claim(id) ? null : r
  }

  /** Claims a client's own event id for this request; false (and counted) when it is a duplicate. */
  claim(id: string): boolean {
    const deduper = this.o.deduper
    if (deduper === null) return true
    const key = this.prefix + id
    if (!deduper.claim(key, this.o.receivedAt)) {
      this.out.duplicates++
      return false
    }
    this.out.claimed.push(key)
    return true
  }

  /**
   * Encodes a validated event into its partition's group. false when it cannot be encoded: the batch
   * then fails as a whole at append time (IngestBatch.unencodable).
   */
  add(event: TrackedEvent): boolean {
    try {
      groupEvent(this.out.groups, event, this.o.eventsFormat)
    } catch (err) {
      this.out.unencodable ??= err instanceof Error ? err : new Error(String(err))
      return false
    }
    this.out.accepted++
    return true
  }

  /** Records a rejected event at request position `index`, its bytes as sent kept as a dead letter. */
  reject(index: number, error: EventError, raw: Uint8Array): void {
    // A field path or reason may quote a property name of any size: bounded before it is echoed or stored.
    const field = bounded(error.field, MAX_FIELD_CHARS)
    const reason = bounded(error.reason, MAX_MESSAGE_CHARS)
    this.out.rejected.push({ index, error: formatEventError({ ...error, field, reason }), field })
    this.out.letters.push(inputLetter(this.source, this.o.tenant, this.o.receivedAt, index, field, reason, raw))
  }
}

/**
 * Validates every candidate event of a parsed body once, claims client event ids and encodes the
 * accepted events (in `eventsFormat`). The loop allocates nothing per event beyond the validated event itself (no
 * closures). `ids` is given by tests that compare two paths with the same id sequence.
 */
export function sortBatch(
  body: ParsedBody,
  tenant: string,
  receivedAt: number,
  partitions: number,
  deduper: Deduper,
  ids: RequestIds = new RequestIds(receivedAt),
  eventsFormat?: EventsFormat,
): IngestBatch {
  const batch = emptyBatch(partitions)
  const sorter = new RequestSorter({ tenant, receivedAt, deduper, ids, sentAt: body.sentAt, eventsFormat }, batch)
  for (const e of body.early) sorter.reject(e.index, e, e.raw)
  const items = body.items
  for (let k = 0; k < items.length; k++) {
    const r = sorter.check(items[k])
    if (r === null) continue
    if (r.ok) sorter.add(r.event)
    else sorter.reject(body.position(k), body.explain === null ? r.error : body.explain(k, r.error), body.raw(k))
  }
  // Lines refused before validation (not JSON, not UTF-8) were read by this path too.
  batch.validated += body.early.length
  if (body.early.length > 0) {
    batch.rejected.sort(byIndex)
    batch.letters.sort(byIndex)
  }
  return batch
}

function byIndex(a: { index: number }, b: { index: number }): number {
  return a.index - b.index
}
