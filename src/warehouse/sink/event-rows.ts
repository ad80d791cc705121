import type { JsonValue } from '../../events/envelope.ts'
import { CODEC } from '../../events/codec.ts'
import { isEngineRecord } from '../../events/clock-record.ts'
import { readShortString } from '../../events/intern.ts'
import type { RecordBatch } from '../../log/event-log.ts'
import { FLATTEN_SEPARATOR, dtOf } from '../layout.ts'
import { viewOf } from './byte-out.ts'
import { ColumnTypes } from './column-types.ts'
import { FileBuild, holdsMemo, RowGroupPool, type PropertyColumn, type RowGroupBuild } from './event-columns.ts'
import { eventFileColumns, encodeEventFile } from './event-file.ts'
import { envelopeProblem, fileableEventName, jsonRecordEnvelope, type PoisonRecord } from './poison.ts'
import { settleColumnTypes } from './rescue.ts'

/** The rows of one part file (one day, one event) as Parquet columns, with the file's property columns. */
export interface EventFile {
  dt: string
  event: string
  rows: number
  /** Columns after the fixed ones (BASE_COLUMNS), in file order. */
  columns: PropertyColumn[]
  /** Names of the columns some of whose values did not fit its type (kept in the rescue column). */
  conflicts: string[]
  /** The Parquet file's bytes, in pieces, for the log partition the rows came from. */
  encode(partition: number): Uint8Array[]
  /** Hands the file's buffers to the next flush: call once the encoded pieces are written. */
  release(): void
}

/*
 * Turns encoded events (src/events/codec.ts) into one Parquet file per (day, event), straight from
 * their bytes: strings are copied, not decoded; the `properties` JSON is rebuilt from the encoded
 * properties; no event object is built. Property columns are those of the file's rows in the order
 * first seen (so the same offset range always gives the same file); nested objects are flattened
 * with `_`; arrays and nulls give no column (they stay in `properties`); names match
 * case-insensitively, as DuckDB's do (./event-columns.ts). A column's type is the event's established
 * one (./column-types.ts); a value of another type is a conflict: it is left out of the column and
 * kept in the row's rescue column (./rescue.ts). Values are kept per column until the file is
 * encoded, so a conflict found late costs nothing more. A record that cannot be read is not a row:
 * it goes to `poison` (./poison.ts) and the rest of the flush goes on.
 */

const DAY_MS = 86_400_000
const { VERSION, AT_TS, AT_RECEIVED, AT_FLAGS, HEADER, HAS_ANONYMOUS_ID, OPEN_BRACE, T_NULL, T_FALSE, T_TRUE, T_NUMBER, T_STRING, T_JSON } = CODEC

const COMMA = 0x2c
const COLON = 0x3a
const CLOSE_BRACE = 0x7d
const TRUE = Buffer.from('true')
const FALSE = Buffer.from('false')
const NULL = Buffer.from('null')

export class EventRows {
  private readonly pool = new RowGroupPool()

  /** `types`: the warehouse's established column types; in memory only when not given. */
  constructor(public types: ColumnTypes = ColumnTypes.inMemory()) {}

  /**
   * Groups rows by day and event; rows keep their order within a file. Records that cannot be
   * read are appended to `poison`. `partition`, the log partition, is part of a JSON record's log
   * position (its default event_id).
   */
  transcode(batches: readonly RecordBatch[], poison: PoisonRecord[] = [], partition = 0): EventFile[] {
    const files = new Map<string, Map<number, FileBuild>>()
    const refuse = (batch: RecordBatch, i: number, reason: string, tenant = ''): void => {
      // A copy: the batch's buffers belong to the log reader.
      const raw = Buffer.from(batch.chunks[batch.chunkOf[i]!]!.subarray(batch.starts[i], batch.ends[i]))
      poison.push({ offset: batch.offsets[i]!, timestamp: batch.timestamps[i]!, reason, tenant, raw })
    }
    for (const batch of batches) {
      let chunkIndex = -1
      let chunk: Buffer = EMPTY
      let chunkView = viewOf(EMPTY)
      // Consecutive rows are mostly of one file: look it up again only when the event or day changes.
      let last: FileBuild | null = null
      let lastDay = NaN
      for (let i = 0; i < batch.count; i++) {
        if (batch.chunkOf[i] !== chunkIndex) {
          chunkIndex = batch.chunkOf[i]!
          chunk = asBuffer(batch.chunks[chunkIndex]!)
          chunkView = viewOf(chunk)
        }
        let b: Buffer = chunk
        let view = chunkView
        let s = batch.starts[i]!
        // An empty value (a Kafka tombstone): b[s] would be the next record's first byte.
        if (batch.ends[i]! <= s) {
          refuse(batch, i, 'empty record')
          continue
        }
        // The engine's clock, identity and rules records share the topic; they are not events (a
        // forwarded event of an absorbed id was written here once already, under that id).
        if (isEngineRecord(b, s)) continue
        // Anything but our envelope is another producer's JSON, decoded as the engine decodes it,
        // into the binary form first.
        if (b[s] !== VERSION) {
          const json = jsonRecordEnvelope(b, s, batch.ends[i]!, { partition, offset: batch.offsets[i]!, timestamp: batch.timestamps[i]! })
          if ('reason' in json) {
            refuse(batch, i, json.reason, json.tenant)
            continue
          }
          b = json.event
          view = viewOf(b)
          s = 0
        } else {
          const problem = envelopeProblem(b, view, s, batch.ends[i]!)
          if (problem !== null) {
            refuse(batch, i, problem)
            continue
          }
        }
        const ts = view.getFloat64(s + AT_TS, true)
        const day = Math.floor(ts / DAY_MS)
        const nameEnd = s + HEADER + 1 + b[s + HEADER]!
        let f: FileBuild | null = last
        if (f === null || day !== lastDay || !holdsMemo(f.eventBytes, b, s + 19, nameEnd)) {
          const event = readShortString(b, s + 19, nameEnd)
          let byDay = files.get(event)
          if (!byDay) {
            // The name becomes a directory (event=NAME): only the collector's path-safe names, and the server's own.
            if (!fileableEventName(event)) {
              refuse(batch, i, 'event: not a valid event name')
              continue
            }
            files.set(event, (byDay = new Map()))
          }
          f = byDay.get(day) ?? null
          if (!f) byDay.set(day, (f = new FileBuild(dtOf(day * DAY_MS), event, this.pool, this.types.of(event))))
          last = f
          lastDay = day
        }
        addRow(f, b, view, s, ts, batch.offsets[i]!)
      }
    }
    const built: FileBuild[] = []
    for (const byDay of files.values()) for (const f of byDay.values()) built.push(f)
    // Types are settled in file order, so the same log range always establishes the same types.
    built.sort((a, b) => (a.dt + a.event < b.dt + b.event ? -1 : 1))
    return built.map((f) => {
      settleColumnTypes(f, this.types)
      const rescued = f.columns.some((c) => c.conflict)
      return {
        dt: f.dt,
        event: f.event,
        rows: f.rows,
        columns: f.columns,
        conflicts: f.columns.filter((c) => c.conflict).map((c) => c.name),
        encode: (partition: number) => encodeEventFile(eventFileColumns(f.columns, rescued), f, partition),
        release: () => this.pool.give(f.groups.splice(0)),
      }
    })
  }
}

function addRow(f: FileBuild, b: Buffer, view: DataView, s: number, ts: number, offset: number): void {
  const g = f.current()
  const row = g.rows
  g.ts.set(row, roundHalfEven(ts))
  g.receivedAt.set(row, roundHalfEven(view.getFloat64(s + AT_RECEIVED, true)))
  g.offset.set(row, offset)
  const hasAnonymous = (b[s + AT_FLAGS]! & HAS_ANONYMOUS_ID) !== 0
  let pos = s + HEADER
  pos += 1 + b[pos]! // event: the same for every row of the file
  const tenantStart = pos + 1
  pos = tenantStart + b[pos]!
  g.tenant.byteArray(b, tenantStart, pos, view)
  let start = pos + 2
  pos = start + (b[pos]! | (b[pos + 1]! << 8))
  g.userId.byteArray(b, start, pos, view)
  if (hasAnonymous) {
    start = pos + 2
    pos = start + (b[pos]! | (b[pos + 1]! << 8))
    g.anonymousId.byteArray(b, start, pos, view)
    g.anonymousDefined[row] = 1
  } else {
    g.anonymousDefined[row] = 0
    g.anonymousNulls++
  }
  start = pos + 2
  pos = start + (b[pos]! | (b[pos + 1]! << 8))
  g.eventId.byteArray(b, start, pos, view)

  const count = b[pos]! | (b[pos + 1]! << 8)
  pos += 2
  const json = g.properties
  const lengthAt = json.pos
  json.u32(0)
  json.byte(0x7b)
  for (let p = 0; p < count; p++) {
    const kStart = pos + 1
    const kEnd = kStart + b[pos]!
    pos = kEnd
    if (p > 0) json.byte(COMMA)
    json.jsonString(b, kStart, kEnd)
    json.byte(COLON)
    const type = b[pos++]
    if (type === T_NUMBER) {
      const v = view.getFloat64(pos, true)
      pos += 8
      json.number(v)
      f.valuesAt(g, b, kStart, kEnd, p, 'DOUBLE').number(row, v)
    } else if (type === T_STRING) {
      const vStart = pos + 4
      pos = vStart + view.getUint32(pos, true)
      json.jsonString(b, vStart, pos)
      f.valuesAt(g, b, kStart, kEnd, p, 'VARCHAR').string(row, b, vStart, pos, view)
    } else if (type === T_FALSE || type === T_TRUE) {
      const v = type === T_TRUE
      json.raw(v ? TRUE : FALSE, 0, v ? 4 : 5)
      f.valuesAt(g, b, kStart, kEnd, p, 'BOOLEAN').boolean(row, v)
    } else if (type === T_NULL) json.raw(NULL, 0, 4)
    else if (type === T_JSON) {
      const vStart = pos + 4
      pos = vStart + view.getUint32(pos, true)
      json.raw(b, vStart, pos, view)
      if (b[vStart] === OPEN_BRACE) flatten(f, g, row, readShortString(b, kStart, kEnd), JSON.parse(b.toString('utf8', vStart, pos)) as { [key: string]: JsonValue })
    } else throw new Error(`unknown property type ${type}`)
  }
  json.byte(CLOSE_BRACE)
  json.u32At(lengthAt, json.pos - lengthAt - 4)
  g.rows++
  f.rows++
}

/** Flattens a nested object's scalars into `key_sub` columns (rare: most properties are flat). */
function flatten(f: FileBuild, g: RowGroupBuild, row: number, prefix: string, obj: { [key: string]: JsonValue }): void {
  for (const key in obj) {
    const v = obj[key]
    if (v === null || v === undefined || Array.isArray(v)) continue
    const path = prefix + FLATTEN_SEPARATOR + key
    if (typeof v === 'object') flatten(f, g, row, path, v)
    else if (typeof v === 'number') f.values(g, path, 'DOUBLE').number(row, v)
    else if (typeof v === 'boolean') f.values(g, path, 'BOOLEAN').boolean(row, v)
    else {
      const bytes = Buffer.from(v, 'utf8')
      f.values(g, path, 'VARCHAR').string(row, bytes, 0, bytes.length)
    }
  }
}

/**
 * Epoch ms as a whole number, rounded as DuckDB's CAST(DOUBLE AS BIGINT) rounds (half to even):
 * what the sink's SQL, `epoch_ms(CAST(ts AS BIGINT))`, gave before this writer.
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x)
  // `|| 0`: an integer column has no -0 (Math.round(-0.4) is -0).
  return (r - x === 0.5 && r % 2 !== 0 ? r - 1 : r) || 0
}

const EMPTY: Buffer = Buffer.alloc(0)

function asBuffer(v: Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)
}
