import { TOPICS, type RecordBatch } from '../../log/event-log.ts'
import { batchValue } from '../../log/read-batch.ts'
import type { Logger } from '../../logger.ts'
import { DT_PREFIX, EVENTS_DIR, EVENTS_SINK_GROUP, EVENT_PREFIX, dtOf } from '../layout.ts'
import { ColumnTypes } from './column-types.ts'
import { EventRows } from './event-rows.ts'
import { writePieces } from './files.ts'
import type { ParquetWriter } from './parquet-writer.ts'
import type { PoisonRecord } from './poison.ts'

/** One Parquet file a flush writes for a partition: its directory under the topic's, and how. */
export interface SinkFile {
  /** Path segments under the topic's directory, e.g. ['dt=2026-11-01', 'event=spin']. */
  dirs: string[]
  rows: number
  /** Property columns some of whose values did not fit the column's type (kept in `_rescued`). */
  conflicts: string[]
  /** Writes the file at `path`; `duck` opens DuckDB for files it writes. */
  write(duck: () => Promise<ParquetWriter>, path: string, stagingPath: string, partition: number): Promise<void>
}

/** A log topic the warehouse copies, where to, and how its records become files. */
export interface SinkTopic {
  topic: string
  /** Directory under the warehouse root. */
  dir: string
  /** Consumer group whose committed offsets say what the warehouse holds of this topic. */
  group: string
  /**
   * The files of a flush of `partition`, from its records in offset order (record times are the
   * output streams' `at`). A record that cannot be read is appended to `poison` instead, and the
   * others are written as if it were not there.
   */
  files(batches: readonly RecordBatch[], poison?: PoisonRecord[], partition?: number): SinkFile[]
  /** Once the sink is open: loads what the topic keeps beside its files (the events' column types). */
  open?(root: string, duck: () => Promise<ParquetWriter>, logger?: Logger): Promise<void>
  /** Before a flush's files are published: makes durable what building them established. */
  beforePublish?(): Promise<void>
}

/** Events: `events/dt=…/event=…/`, typed property columns, written by our own Parquet encoder (./event-rows.ts). */
export function eventsTopic(): SinkTopic {
  const rows = new EventRows()
  return {
    topic: TOPICS.events,
    dir: EVENTS_DIR,
    group: EVENTS_SINK_GROUP,
    async open(root, duck, logger) {
      rows.types = await ColumnTypes.load(root, duck, logger)
    },
    beforePublish: () => rows.types.persist(),
    files: (batches, poison, partition) =>
      rows.transcode(batches, poison, partition).map((f) => ({
        dirs: [`${DT_PREFIX}${f.dt}`, `${EVENT_PREFIX}${f.event}`],
        rows: f.rows,
        conflicts: f.conflicts,
        write: async (_duck, path, _staging, partition) => {
          writePieces(path, f.encode(partition))
          f.release()
        },
      })),
  }
}

/** Columns of an output stream's JSON records, as DuckDB reads them; JSON columns are kept as text. */
type JsonColumns = ReadonlyArray<readonly [name: string, type: 'VARCHAR' | 'DOUBLE' | 'BIGINT' | 'JSON']>

const SEGMENT_CHANGE_JSON: JsonColumns = [
  ['segment', 'VARCHAR'],
  ['tenant', 'VARCHAR'],
  ['user_id', 'VARCHAR'],
  ['change', 'VARCHAR'],
  ['at', 'DOUBLE'],
  ['values', 'JSON'],
  ['version', 'BIGINT'],
]

const NOTIFICATION_JSON: JsonColumns = [
  ['trigger', 'VARCHAR'],
  ['emit', 'VARCHAR'],
  ['tenant', 'VARCHAR'],
  ['user_id', 'VARCHAR'],
  ['event', 'VARCHAR'],
  ['event_id', 'VARCHAR'],
  ['at', 'DOUBLE'],
  ['properties', 'JSON'],
  ['values', 'JSON'],
]

/** Segment entries and exits: `segment-changes/dt=…/` (dt of the change's time). */
export function segmentChangesTopic(): SinkTopic {
  return jsonTopic(TOPICS.segmentChanges, 'warehouse-segment-changes', SEGMENT_CHANGE_JSON)
}

/** Trigger notifications: `notifications/dt=…/`. */
export function notificationsTopic(): SinkTopic {
  return jsonTopic(TOPICS.notifications, 'warehouse-notifications', NOTIFICATION_JSON)
}

const IDENTITY_JSON: JsonColumns = [
  ['tenant', 'VARCHAR'],
  ['user_id', 'VARCHAR'],
  ['id', 'VARCHAR'],
  ['at', 'DOUBLE'],
]

/** Identity links (docs/identity.md): `identities/dt=…/` (dt of the link's time). */
export function identitiesTopic(): SinkTopic {
  return jsonTopic(TOPICS.identities, 'warehouse-identities', IDENTITY_JSON)
}

/**
 * The engine writes its outputs as one JSON object per record (src/engine/partition-worker.ts).
 * Records are grouped by day of their timestamp and handed to DuckDB's JSON reader as NDJSON, each
 * line the record with its log offset added. Each record is parsed and written again, so a line is
 * always one valid JSON object in UTF-8; a record that is not an object, or whose fields DuckDB
 * could not read as the declared columns (jsonRecordProblem), is poison: one bad record must not
 * fail the file of every other.
 */
function jsonTopic(topic: string, group: string, columns: JsonColumns): SinkTopic {
  return {
    topic,
    dir: topic,
    group,
    files(batches, poison = []) {
      const byDay = new Map<string, string[]>()
      for (const batch of batches) {
        for (let i = 0; i < batch.count; i++) {
          const v = batchValue(batch, i)
          const offset = batch.offsets[i]!
          const parsed = parseRecord(v, columns)
          if (typeof parsed === 'string') {
            poison.push({ offset, timestamp: batch.timestamps[i]!, reason: parsed, tenant: '', raw: Buffer.from(v) })
            continue
          }
          const dt = dtOf(batch.timestamps[i]!)
          let lines = byDay.get(dt)
          if (!lines) byDay.set(dt, (lines = []))
          lines.push(JSON.stringify({ ...parsed, _offset: offset }))
        }
      }
      return [...byDay]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([dt, lines]) => {
          const ndjson = Buffer.from(lines.join('\n') + '\n')
          return {
            dirs: [`${DT_PREFIX}${dt}`],
            rows: lines.length,
            conflicts: [],
            write: async (duck: () => Promise<ParquetWriter>, path: string, staging: string, partition: number) => (await duck()).writeJson(path, staging, ndjson, columns, partition),
          }
        })
    },
  }
}

/** Times DuckDB can hold as a TIMESTAMP of epoch ms (JavaScript's Date range). */
const MAX_TIME_MS = 8.64e15

/** The record as an object, or why DuckDB could not read it as `columns` (a missing field is NULL). */
function parseRecord(v: Uint8Array, columns: JsonColumns): Record<string, unknown> | string {
  let obj: unknown
  try {
    obj = JSON.parse(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8'))
  } catch {
    return 'not JSON'
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return 'record is not a JSON object'
  const rec = obj as Record<string, unknown>
  for (const [name, type] of columns) {
    const x = rec[name]
    if (x === undefined || x === null || type === 'JSON') continue
    const ok = type === 'VARCHAR' ? typeof x !== 'object' : type === 'BIGINT' ? Number.isSafeInteger(x) : typeof x === 'number' && (name !== 'at' || Math.abs(x) <= MAX_TIME_MS)
    if (!ok) return `${name}: not a ${type}${name === 'at' ? ' of ms in range' : ''}`
  }
  return rec
}
