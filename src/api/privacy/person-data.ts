import { decodeEngineRecord } from '../../engine/engine-record.ts'
import { isEngineRecord } from '../../events/clock-record.ts'
import { partitionOfUser } from '../../events/partition.ts'
import { TOPICS, type EventLog } from '../../log/event-log.ts'
import { recordsInRange } from '../../log/read-range.ts'
import { PersonWarehouse, type PersonFilter, type PersonRow } from '../../warehouse/query/person-rows.ts'
import type { StateStore } from '../../state/state-store.ts'
import type { InboxMessage, InboxTables } from '../../state/state-store.ts'

/*
 * Everything the server holds about one person, for GET /v1/profiles/:user_id/export (docs/privacy.md):
 * the events the warehouse holds, then those still only in the log, then the segment changes and
 * notifications the warehouse holds, as NDJSON lines produced one at a time while the client reads.
 * The log and the warehouse are cut at one point per partition (the warehouse sink's committed
 * offset, read before the files are listed), so an event is exported once, from one of the two.
 */

/** The warehouse sink's consumer group on the events topic: its committed offset says what the warehouse holds. */
const WAREHOUSE_GROUP = 'warehouse'
/** Lines are handed to the response in pieces of about this many characters. */
const PIECE_CHARS = 64 * 1024

/** Where a person's data is read from. */
export interface PersonSources {
  log: EventLog
  /** Partitions of the events topic. */
  partitions: number
  /** The warehouse directory (`<data>/warehouse`). */
  warehouseRoot: string
  /** Whether this server runs the warehouse sink; without it, events come from the log alone, from each partition's start. */
  warehouse: boolean
  /**
   * Per events partition, the offset of the latest erase record naming one of the person's ids
   * (docs/privacy.md): the events below it are erased, whatever a file or the log still holds.
   */
  erasedBelow?: ReadonlyMap<number, number>
  /** Players' inboxes: the person's undelivered messages are theirs too (docs/streams.md). */
  inbox?: InboxTables
}

/** One exported row, before it is a line. */
export type ExportItem =
  { kind: 'event'; source: 'warehouse' | 'log'; row: PersonRow } | { kind: 'segment_change'; row: PersonRow } | { kind: 'notification'; row: PersonRow } | { kind: 'inbox_message'; row: InboxMessage }

/** The first line. */
export interface ExportHeader {
  tenant: string
  user_id: string
  ids: string[]
  generated_at: string
}

/** One events partition of the person: the warehouse's rows below `below`, the log's [from, to). */
interface LogSlice {
  partition: number
  below: number
  from: number
  to: number
}

/**
 * The person's ids: the id asked for, then, when it has a live profile, the profile's own id (the
 * person, when the id asked for was absorbed into one) and the ids linked into it (docs/identity.md).
 */
export function personIds(asked: string, profileJson: string | null): string[] {
  const ids = [asked]
  if (profileJson === null) return ids
  const profile: unknown = JSON.parse(profileJson)
  if (typeof profile !== 'object' || profile === null) return ids
  const { user_id: person, ids: linked } = profile as { user_id?: unknown; ids?: unknown }
  if (typeof person === 'string') ids.push(person)
  if (Array.isArray(linked)) for (const id of linked) if (typeof id === 'string') ids.push(id)
  return [...new Set(ids)]
}

/**
 * A person's data, read on demand: `open` fixes where the log and the warehouse are cut and lists
 * the warehouse's files; `items()` reads them. `close()` frees the warehouse's DuckDB (also when the
 * items were never read to their end); it may be called at any time, more than once.
 */
export class PersonData {
  private constructor(
    private readonly src: PersonSources,
    private readonly who: PersonFilter,
    private readonly slices: LogSlice[],
    private readonly warehouse: PersonWarehouse,
  ) {}

  static async open(src: PersonSources, who: PersonFilter): Promise<PersonData> {
    const partitions = [...new Set(who.ids.map((id) => partitionOfUser(who.tenant, id, src.partitions)))].sort((a, b) => a - b)
    const slices: LogSlice[] = []
    for (const partition of partitions) {
      const { start, end } = await src.log.offsets(TOPICS.events, partition)
      // null: the sink has committed nothing there, so the warehouse holds none of what the log still has.
      const committed = src.warehouse ? ((await src.log.committed(WAREHOUSE_GROUP, TOPICS.events, partition)) ?? start) : start
      slices.push({ partition, below: committed, from: Math.max(committed, start), to: end })
    }
    // Listed after the committed offsets were read: every row below them is in a file already.
    return new PersonData(src, who, slices, await PersonWarehouse.open(src.warehouseRoot))
  }

  /** Warehouse events by time, then the log's by partition and offset, then segment changes, notifications, undelivered inbox messages. */
  async *items(): AsyncGenerator<ExportItem> {
    try {
      const erased = this.src.erasedBelow ?? new Map<number, number>()
      const kept = (row: PersonRow) => erased.size === 0 || Number(row.offset) >= (erased.get(Number(row.partition)) ?? 0)
      if (this.src.warehouse) {
        const below = new Map(this.slices.map((s) => [s.partition, s.below]))
        for await (const row of this.warehouse.events(this.who, below)) if (kept(row)) yield { kind: 'event', source: 'warehouse', row }
      }
      for (const slice of this.slices) {
        for await (const row of logEvents(this.src.log, slice, this.who)) if (kept(row)) yield { kind: 'event', source: 'log', row }
      }
      for await (const row of this.warehouse.segmentChanges(this.who)) yield { kind: 'segment_change', row }
      for await (const row of this.warehouse.notifications(this.who)) yield { kind: 'notification', row }
      // An inbox holds at most 10,000 messages (the --inbox-max cap's most).
      if (this.src.inbox) for (const id of this.who.ids) for (const row of await this.src.inbox.undelivered(this.who.tenant, id, 10_000)) yield { kind: 'inbox_message', row }
    } finally {
      await this.close()
    }
  }

  close(): Promise<void> {
    return this.warehouse.close()
  }
}

/**
 * The person's events in one partition of the log: decoded as the engine decodes them; clock,
 * identity, rules and erase records, and records that are not events, are skipped. An event is the
 * person's when it is of the tenant and its `user_id` or `anonymous_id` is one of the ids.
 */
async function* logEvents(log: EventLog, slice: LogSlice, who: PersonFilter): AsyncGenerator<PersonRow> {
  const ids = new Set(who.ids)
  for await (const r of recordsInRange(log, TOPICS.events, slice.partition, slice.from, slice.to)) {
    const v = r.value
    if (v.length === 0 || isEngineRecord(v)) continue
    const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength)
    const d = decodeEngineRecord(b, 0, b.length, slice.partition, r.offset, r.timestamp)
    if (d.kind !== 'event') continue
    const e = d.event
    if (e.tenant !== who.tenant || !(ids.has(e.user_id) || (e.anonymous_id !== undefined && ids.has(e.anonymous_id)))) continue
    yield {
      event: e.event,
      user_id: e.user_id,
      anonymous_id: e.anonymous_id ?? null,
      ts: iso(e.ts),
      event_id: e.event_id,
      tenant: e.tenant,
      received_at: iso(e.received_at),
      partition: slice.partition,
      offset: r.offset,
      properties: e.properties,
    }
  }
}

/** Epoch ms as ISO-8601 UTC, as the warehouse's rows give times; a time no Date can hold stays a number. */
function iso(ms: number): string | number {
  const d = new Date(ms)
  return Number.isNaN(d.getTime()) ? ms : d.toISOString()
}

/**
 * The export as NDJSON text: the header, the profile when there is one (its JSON as the engine
 * serialised it), every item, and the end line with the counts, in pieces of about 64 KiB.
 */
export async function* exportLines(header: ExportHeader, profileJson: string | null, items: AsyncIterable<ExportItem>): AsyncGenerator<string> {
  const counts = { events: 0, segment_changes: 0, notifications: 0, inbox_messages: 0 }
  let piece = JSON.stringify({ kind: 'export', ...header }) + '\n'
  if (profileJson !== null) piece += `{"kind":"profile","profile":${profileJson}}\n`
  for await (const item of items) {
    if (item.kind === 'event') {
      counts.events++
      piece += JSON.stringify({ kind: 'event', source: item.source, ...item.row }) + '\n'
    } else {
      if (item.kind === 'segment_change') counts.segment_changes++
      else if (item.kind === 'notification') counts.notifications++
      else counts.inbox_messages++
      piece += JSON.stringify({ kind: item.kind, ...item.row }) + '\n'
    }
    if (piece.length >= PIECE_CHARS) {
      yield piece
      piece = ''
    }
  }
  yield piece + JSON.stringify({ kind: 'end', ...counts }) + '\n'
}

/** `first`, then the rest of `items` (an iterator whose first item was taken to look at it). */
export async function* withFirst<T>(first: T, items: AsyncIterator<T>): AsyncGenerator<T> {
  try {
    yield first
    for (;;) {
      const next = await items.next()
      if (next.done === true) return
      yield next.value
    }
  } finally {
    await items.return?.()
  }
}

/** The erasedBelow of PersonSources: each partition's latest erase record of one of the ids, from the tenant's jobs whose tombstone holds. */
export async function erasedBelow(state: StateStore, tenant: string, ids: readonly string[]): Promise<Map<number, number>> {
  const out = new Map<number, number>()
  for (const job of await state.privacy.listErasures({ tenant, active: true, limit: 1_000 })) {
    if (!job.tombstone || !job.ids.some((id) => ids.includes(id))) continue
    for (const [p, offset] of Object.entries(job.offsets)) out.set(Number(p), Math.max(out.get(Number(p)) ?? 0, offset))
  }
  return out
}
