import { join } from 'node:path'

/*
 * The warehouse layout, shared by the sink (which writes it) and the SQL queries (which read it):
 *
 *   <root>/events/dt=YYYY-MM-DD/event=NAME/part-<partition>-<firstOffset>-<lastOffset>.parquet
 *
 * dt is the UTC date of the event's `ts`. first/last are the events-log offsets of the partition that
 * the file covers (inclusive): every row of that partition, day and event in that range is in this file
 * and in no other live file (a file inside another's range is superseded: liveParts). Offsets are
 * zero-padded to 12 digits so names sort by range. Files being written end in `.tmp` and never match
 * `*.parquet`. See docs/warehouse-sink.md.
 */

export const EVENTS_DIR = 'events'
/** The sink's consumer group on the events log: its committed offsets say how far the events are filed (backfills and the demo wait on it). */
export const EVENTS_SINK_GROUP = 'warehouse'
/** The engine's output streams, each `<root>/<stream>/dt=YYYY-MM-DD/part-….parquet` (dt of the record's time). */
export const STREAM_DIRS = ['segment-changes', 'notifications', 'identities'] as const
export const DT_PREFIX = 'dt='
export const EVENT_PREFIX = 'event='
export const PART_PREFIX = 'part-'
export const PARQUET_EXT = '.parquet'
export const TMP_EXT = '.tmp'
export const OFFSET_DIGITS = 12
export const PARTITION_DIGITS = 4

/** The fixed columns, in file order; flattened property columns follow them. */
export const BASE_COLUMNS = [
  { name: 'event', type: 'VARCHAR' },
  { name: 'user_id', type: 'VARCHAR' },
  { name: 'anonymous_id', type: 'VARCHAR' },
  { name: 'ts', type: 'TIMESTAMP' },
  { name: 'event_id', type: 'VARCHAR' },
  { name: 'tenant', type: 'VARCHAR' },
  { name: 'received_at', type: 'TIMESTAMP' },
  { name: 'partition', type: 'INTEGER' },
  { name: 'offset', type: 'BIGINT' },
  { name: 'properties', type: 'VARCHAR' },
] as const

export type PropertyType = 'DOUBLE' | 'VARCHAR' | 'BOOLEAN'

/** Separator between nested keys of a flattened property: `meta.price` → `meta_price`. */
export const FLATTEN_SEPARATOR = '_'

/**
 * Column names a flattened property may not take (case-insensitively): the base columns and the hive
 * keys. Such a property gets PROPERTY_PREFIX in front (`offset` → `p_offset`).
 */
export const RESERVED_COLUMN_NAMES: ReadonlySet<string> = new Set([...BASE_COLUMNS.map((c) => c.name), 'dt'])
export const PROPERTY_PREFIX = 'p_'

/** A read_parquet glob over every event file of a warehouse root. */
export function eventsGlob(root: string): string {
  return join(root, EVENTS_DIR, '**', `*${PARQUET_EXT}`)
}

const DAY_MS = 86_400_000
const dayCache = new Map<number, string>()

/** UTC date (YYYY-MM-DD) of an epoch-ms time. */
export function dtOf(ts: number): string {
  const day = Math.floor(ts / DAY_MS)
  let s = dayCache.get(day)
  if (s === undefined) {
    s = new Date(day * DAY_MS).toISOString().slice(0, 10)
    if (dayCache.size > 10_000) dayCache.clear()
    dayCache.set(day, s)
  }
  return s
}

export function dayDir(root: string, dt: string): string {
  return join(root, EVENTS_DIR, `${DT_PREFIX}${dt}`)
}

export function eventDir(root: string, dt: string, event: string): string {
  return join(dayDir(root, dt), `${EVENT_PREFIX}${event}`)
}

export interface PartRange {
  partition: number
  /** First events-log offset covered, inclusive. */
  first: number
  /** Last events-log offset covered, inclusive. */
  last: number
}

/** `part-0003-000000000100-000000000199.parquet` */
export function partFileName(partition: number, first: number, last: number): string {
  return `${PART_PREFIX}${pad(partition, PARTITION_DIGITS)}-${pad(first, OFFSET_DIGITS)}-${pad(last, OFFSET_DIGITS)}${PARQUET_EXT}`
}

const PART_RE = /^part-(\d+)-(\d+)-(\d+)\.parquet$/

/** The range a part file name covers, or null for any other name (temp files included). */
export function parsePartFileName(name: string): PartRange | null {
  const m = PART_RE.exec(name)
  if (!m) return null
  const partition = Number(m[1])
  const first = Number(m[2])
  const last = Number(m[3])
  if (last < first) return null
  return { partition, first, last }
}

/**
 * The part files of one directory that hold rows, in (partition, first offset) order: a file whose
 * range lies inside another file's range of the same partition (an equal range counts once) is
 * *superseded*: a merge wrote the other file with all its rows, and the superseded one is only
 * kept a while for queries that listed it before (docs/warehouse-sink.md, "Compaction"). Readers
 * that read these files, and no others, see every row exactly once while merges run.
 */
export function liveParts<T extends PartRange>(files: readonly T[]): T[] {
  const sorted = [...files].sort((a, b) => a.partition - b.partition || a.first - b.first || b.last - a.last)
  const kept: T[] = []
  let partition = -1
  let reach = -1
  for (const f of sorted) {
    if (f.partition !== partition) {
      partition = f.partition
      reach = -1
    }
    if (f.last <= reach) continue
    kept.push(f)
    reach = f.last
  }
  return kept
}

/** The names in a directory listing that are live part files (liveParts), in partition and offset order. */
export function liveFileNames(names: readonly string[]): string[] {
  const parts: Array<PartRange & { name: string }> = []
  for (const name of names) {
    const r = parsePartFileName(name)
    if (r) parts.push({ ...r, name })
  }
  return liveParts(parts).map((p) => p.name)
}

/** `2026-11-01` from `dt=2026-11-01`, or null. */
export function parseDtDir(name: string): string | null {
  if (!name.startsWith(DT_PREFIX)) return null
  const dt = name.slice(DT_PREFIX.length)
  return /^\d{4}-\d{2}-\d{2}$/.test(dt) ? dt : null
}

export function parseEventDir(name: string): string | null {
  return name.startsWith(EVENT_PREFIX) ? name.slice(EVENT_PREFIX.length) : null
}

function pad(n: number, digits: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a non-negative integer: ${n}`)
  return String(n).padStart(digits, '0')
}
