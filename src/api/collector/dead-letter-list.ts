import { CODEC } from '../../events/codec.ts'
import { isUtf8 } from 'node:buffer'
import { partitionFor } from '../../events/index.ts'
import type { DeadLetter } from '../../ingest/dead-letters.ts'
import { TOPICS, type EventLog, type LogRecord } from '../../log/event-log.ts'
import { recordsInRange } from '../../log/read-range.ts'
import { MAX_FIELD_CHARS, MAX_MESSAGE_CHARS, bounded } from '../../ingest/text-bounds.ts'
import { failure, type RequestFailure } from '../../ingest/failure.ts'

/*
 * Listing a tenant's dead letters, newest first. appendDeadLetters keys a tenant's dead letters by the
 * tenant, so they all sit in one partition of the dead-letters topic; other tenants may share it, so
 * records are filtered by key. The log reads forward only: a page reads a window of offsets below the
 * cursor and walks it backwards. The cursor is the offset to continue below (exclusive).
 */

export const DEFAULT_PAGE = 100
export const MAX_PAGE = 1000
/** Records examined per request at most, so a tenant with few letters in a busy partition cannot make a request slow. */
const MAX_SCAN = 20_000
const WINDOW = 1000
/** Raw bytes shown per letter; a whole refused body may be megabytes. */
export const MAX_RAW = 16 * 1024
/**
 * Approximate characters of one page's items: a full page of the largest items (1,000 × ~25 KB) would
 * be 25 MB of JSON; a page stops here and gives a `next` instead.
 */
export const MAX_PAGE_CHARS = 4 * 1024 * 1024

export interface DeadLetterItem {
  partition: number
  offset: number
  /** ISO-8601. */
  received_at: string
  index: number
  field: string
  reason: string
  source: string
  /** The raw bytes as text when they are valid UTF-8 … */
  raw?: string
  /** … otherwise base64. */
  raw_base64?: string
  /** Set when the raw bytes were longer than MAX_RAW and only their start is shown. */
  raw_truncated?: true
  /** Size of the raw bytes, when truncated. */
  raw_bytes?: number
}

export interface DeadLetterPage {
  dead_letters: DeadLetterItem[]
  /** Pass as `cursor` for the next (older) page; null when there is none. */
  next: string | null
}

export interface DeadLetterQuery {
  limit: number
  /** Offsets below this one; null = from the newest. */
  before: number | null
}

/** Checks the query string: `limit` 1…1000 (default 100), `cursor` from a previous page. */
export function parseDeadLetterQuery(query: unknown): DeadLetterQuery | RequestFailure {
  const q = (typeof query === 'object' && query !== null ? query : {}) as Record<string, unknown>
  for (const key of Object.keys(q)) {
    if (key !== 'limit' && key !== 'cursor') return failure(400, 'invalid_query', `unknown query parameter "${key.slice(0, 40)}" (accepted: limit, cursor)`, key)
  }
  let limit = DEFAULT_PAGE
  if (q.limit !== undefined) {
    if (typeof q.limit !== 'string') return failure(400, 'invalid_query', 'limit must be given once', 'limit')
    if (!/^\d{1,7}$/.test(q.limit) || Number(q.limit) < 1 || Number(q.limit) > MAX_PAGE) {
      return failure(400, 'invalid_query', `limit must be an integer from 1 to ${MAX_PAGE}, got "${q.limit.slice(0, 40)}"`, 'limit')
    }
    limit = Number(q.limit)
  }
  let before: number | null = null
  if (q.cursor !== undefined) {
    if (typeof q.cursor !== 'string') return failure(400, 'invalid_query', 'cursor must be given once', 'cursor')
    if (!/^\d{1,15}$/.test(q.cursor)) return failure(400, 'invalid_query', `cursor must be the "next" value of a previous page, got "${q.cursor.slice(0, 40)}"`, 'cursor')
    before = Number(q.cursor)
  }
  return { limit, before }
}

export async function listDeadLetters(log: EventLog, partitions: number, tenant: string, query: DeadLetterQuery, erased: readonly string[] = []): Promise<DeadLetterPage> {
  const topic = TOPICS.deadLetters
  const partition = partitionFor(tenant, partitions)
  const { start, end } = await log.offsets(topic, partition)
  const items: DeadLetterItem[] = []
  let hi = query.before === null ? end : Math.min(query.before, end)
  let scanned = 0
  let chars = 0
  while (hi > start && items.length < query.limit) {
    if (scanned >= MAX_SCAN) return { dead_letters: items, next: String(hi) }
    const lo = Math.max(start, hi - WINDOW)
    const window = await readWindow(log, topic, partition, lo, hi, tenant, erased)
    scanned += hi - lo
    for (let i = window.length - 1; i >= 0; i--) {
      const item = window[i]!
      items.push(item)
      chars += itemChars(item)
      if (items.length === query.limit || chars >= MAX_PAGE_CHARS) return { dead_letters: items, next: item.offset > start ? String(item.offset) : null }
    }
    hi = lo
  }
  return { dead_letters: items, next: null }
}

/**
 * The tenant's letters with lo <= offset < hi, oldest first, each turned into an item as soon as it
 * is read: a read returns a bounded number of bytes, and an item holds at most MAX_RAW raw bytes, so
 * a window of huge letters (whole 10 MiB bodies) never sits in memory at once.
 */
async function readWindow(log: EventLog, topic: string, partition: number, lo: number, hi: number, tenant: string, erased: readonly string[]): Promise<DeadLetterItem[]> {
  const out: DeadLetterItem[] = []
  const hidden = erased.map((id) => [Buffer.from(JSON.stringify(id)), Buffer.from(id)] as const)
  for await (const r of recordsInRange(log, topic, partition, lo, hi)) {
    if (r.key !== tenant) continue
    const item = toItem(partition, r, hidden)
    if (item !== null) out.push(item)
  }
  return out
}

/** About how many characters an item adds to the page's JSON. */
function itemChars(item: DeadLetterItem): number {
  return 200 + item.field.length + item.reason.length + item.source.length + (item.raw?.length ?? 0) + (item.raw_base64?.length ?? 0)
}

function toItem(partition: number, r: LogRecord, hidden: ReadonlyArray<readonly [quoted: Buffer, bare: Buffer]> = []): DeadLetterItem | null {
  let d: DeadLetter
  try {
    d = JSON.parse(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength).toString('utf8')) as DeadLetter
  } catch {
    return null
  }
  const item: DeadLetterItem = {
    partition,
    offset: r.offset,
    received_at: new Date(typeof d.received_at === 'number' ? d.received_at : r.timestamp).toISOString(),
    index: d.index,
    // Letters written before these bounds (or by other writers) may hold megabytes here.
    field: bounded(String(d.field), MAX_FIELD_CHARS),
    reason: bounded(String(d.reason), MAX_MESSAGE_CHARS),
    source: bounded(String(d.source), MAX_FIELD_CHARS),
  }
  const all = Buffer.from(typeof d.raw_base64 === 'string' ? d.raw_base64 : '', 'base64')
  // An erased person's letters are not shown while the erase's tombstone holds (docs/privacy.md): a
  // JSON body naming the id as a string, or a binary record holding its bytes. Retention drops them.
  if (hidden.some(([quoted, bare]) => all.includes(quoted) || (all[0] === CODEC.VERSION && all.includes(bare)))) return null
  let raw = all
  if (all.length > MAX_RAW) {
    let cut = MAX_RAW
    // Text is cut on a character boundary: never inside a UTF-8 sequence (at most 4 bytes long).
    if (isUtf8(all)) while (cut > MAX_RAW - 4 && (all[cut]! & 0xc0) === 0x80) cut--
    raw = all.subarray(0, cut)
    item.raw_bytes = all.length
    item.raw_truncated = true
  }
  if (isUtf8(raw)) item.raw = raw.toString('utf8')
  else item.raw_base64 = raw.toString('base64')
  return item
}
