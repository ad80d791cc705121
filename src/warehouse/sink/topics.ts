import { TOPICS, type RecordBatch } from '../../log/event-log.ts'
import { batchValue } from '../../log/read-batch.ts'
import { DT_PREFIX, EVENTS_DIR, EVENT_PREFIX, dtOf } from '../layout.ts'
import { EventRows } from './event-rows.ts'
import { writePieces } from './files.ts'
import type { ParquetWriter } from './parquet-writer.ts'

/** One Parquet file a flush writes for a partition: its directory under the topic's, and how. */
export interface SinkFile {
  /** Path segments under the topic's directory, e.g. ['dt=2026-11-01', 'event=spin']. */
  dirs: string[]
  rows: number
  /** Property columns written as JSON text because rows disagreed on the type. */
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
  /** The files of a flush, from its records in offset order (record times are the output streams' `at`). */
  files(batches: readonly RecordBatch[]): SinkFile[]
}

/** Events: `events/dt=…/event=…/`, typed property columns, written by our own Parquet encoder (./event-rows.ts). */
export function eventsTopic(): SinkTopic {
  const rows = new EventRows()
  return {
    topic: TOPICS.events,
    dir: EVENTS_DIR,
    group: 'warehouse',
    files: (batches) =>
      rows.transcode(batches).map((f) => ({
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
  ['segment', 'VARCHAR'], ['tenant', 'VARCHAR'], ['user_id', 'VARCHAR'], ['change', 'VARCHAR'], ['at', 'DOUBLE'], ['values', 'JSON'], ['version', 'BIGINT'],
]

const NOTIFICATION_JSON: JsonColumns = [
  ['trigger', 'VARCHAR'], ['emit', 'VARCHAR'], ['tenant', 'VARCHAR'], ['user_id', 'VARCHAR'], ['event', 'VARCHAR'], ['event_id', 'VARCHAR'],
  ['at', 'DOUBLE'], ['properties', 'JSON'], ['values', 'JSON'],
]

/** Segment entries and exits: `segment-changes/dt=…/` (dt of the change's time). */
export function segmentChangesTopic(): SinkTopic {
  return jsonTopic(TOPICS.segmentChanges, 'warehouse-segment-changes', SEGMENT_CHANGE_JSON)
}

/** Trigger notifications: `notifications/dt=…/`. */
export function notificationsTopic(): SinkTopic {
  return jsonTopic(TOPICS.notifications, 'warehouse-notifications', NOTIFICATION_JSON)
}

const OFFSET_FIELD = Buffer.from('{"_offset":')
const NEWLINE = 0x0a

/**
 * The engine writes its outputs as one JSON object per record (src/engine/partition-worker.ts).
 * Records are grouped by day of their timestamp and handed to DuckDB's JSON reader as NDJSON, each
 * line the record with its log offset spliced in front.
 */
function jsonTopic(topic: string, group: string, columns: JsonColumns): SinkTopic {
  return {
    topic,
    dir: topic,
    group,
    files(batches) {
      const byDay = new Map<string, Buffer[]>()
      const counts = new Map<string, number>()
      for (const batch of batches) {
        for (let i = 0; i < batch.count; i++) {
          const dt = dtOf(batch.timestamps[i]!)
          let parts = byDay.get(dt)
          if (!parts) byDay.set(dt, (parts = []))
          const v = batchValue(batch, i)
          // `{"_offset":N,` + the record without its opening brace (`{}` would leave a trailing comma).
          const empty = v.length <= 2
          parts.push(OFFSET_FIELD, Buffer.from(String(batch.offsets[i]) + (empty ? '}' : ',')), empty ? Buffer.alloc(0) : Buffer.from(v.buffer, v.byteOffset + 1, v.byteLength - 1), Buffer.of(NEWLINE))
          counts.set(dt, (counts.get(dt) ?? 0) + 1)
        }
      }
      return [...byDay].sort(([a], [b]) => (a < b ? -1 : 1)).map(([dt, parts]) => {
        const ndjson = Buffer.concat(parts)
        return {
          dirs: [`${DT_PREFIX}${dt}`],
          rows: counts.get(dt)!,
          conflicts: [],
          write: async (duck: () => Promise<ParquetWriter>, path: string, staging: string, partition: number) => (await duck()).writeJson(path, staging, ndjson, columns, partition),
        }
      })
    },
  }
}
