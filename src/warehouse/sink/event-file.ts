import { BASE_COLUMNS } from '../layout.ts'
import { ByteOut } from './byte-out.ts'
import { RESCUED_COLUMN, type FileBuild, type Int64Column, type PropertyColumn, type PropertyValues, type RowGroupBuild } from './event-columns.ts'
import { SNAPPY, encodeParquet, int64Bytes, packBooleans, type ColumnChunk, type ColumnSpec, type EncodeOptions } from './parquet-encode.ts'
import { fittingChunk, rescueChunk } from './rescue.ts'

/**
 * How the sink encodes event files: SNAPPY pages, constant columns as one-entry dictionaries
 * (docs/warehouse-sink.md, "How rows become Parquet", says why). The benchmark swaps these to
 * measure the alternatives through the real sink (bench/warehouse.bench.ts).
 */
export const EVENT_FILE_ENCODING: Required<EncodeOptions> = { codec: SNAPPY, dictionaries: true }

/**
 * An event file's columns: BASE_COLUMNS, its property columns, then RESCUED_COLUMN when some value
 * needs it. `ts` and `received_at` are instants (TIMESTAMPTZ: UTC-adjusted microseconds), so every
 * engine reads them as points in time rather than as wall-clock times of an unknown zone.
 */
export function eventFileColumns(properties: readonly PropertyColumn[], rescued = false): ColumnSpec[] {
  const columns: ColumnSpec[] = [
    ...BASE_COLUMNS.map((c) => ({ name: c.name, type: c.type === 'TIMESTAMP' ? ('TIMESTAMPTZ' as const) : c.type })),
    ...properties.map((c) => ({ name: c.name, type: c.type })),
  ]
  if (rescued) columns.push({ name: RESCUED_COLUMN, type: 'VARCHAR' })
  return columns
}

/**
 * The Parquet bytes of a built (day, event) file. The column chunks follow BASE_COLUMNS' order;
 * `event` and `partition` are the same on every row (one-entry dictionaries). ts, received_at,
 * partition and "offset" carry min/max statistics (every column its null count), so a query on a
 * time or offset range skips row groups after reading only the footer.
 */
export function encodeEventFile(columns: readonly ColumnSpec[], f: FileBuild, partition: number): Uint8Array[] {
  const names = columns.slice(0, BASE_COLUMNS.length).map((c) => c.name)
  if (names.join() !== BASE_COLUMNS.map((c) => c.name).join()) throw new Error('column list out of step with BASE_COLUMNS')
  const event = plainString(f.event)
  return encodeParquet(
    columns,
    f.groups.map((g) => {
      const n = g.rows
      const chunks: ColumnChunk[] = [
        { values: [], constant: event, defined: null, nulls: 0 },
        present(g.userId),
        { values: [g.anonymousId.bytes()], defined: g.anonymousNulls > 0 ? g.anonymousDefined.subarray(0, n) : null, nulls: g.anonymousNulls },
        int64Chunk(g.ts, n),
        present(g.eventId),
        present(g.tenant),
        int64Chunk(g.receivedAt, n),
        int32Constant(partition),
        int64Chunk(g.offset, n),
        present(g.properties),
      ]
      for (let c = 0; c < f.columns.length; c++) chunks.push(propertyChunk(g, g.values[c], f.columns[c]!))
      if (columns.length > chunks.length) chunks.push(rescueChunk(g, f.columns))
      return { rows: n, columns: chunks, pages: g.pages }
    }),
    EVENT_FILE_ENCODING,
  )
}

function present(out: ByteOut): ColumnChunk {
  return { values: [out.bytes()], defined: null, nulls: 0 }
}

/** A BYTE_ARRAY value, PLAIN-encoded. */
function plainString(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8')
  const out = Buffer.allocUnsafe(4 + bytes.length)
  out.writeUInt32LE(bytes.length, 0)
  bytes.copy(out, 4)
  return out
}

function int64Chunk(c: Int64Column, n: number): ColumnChunk {
  const chunk: ColumnChunk = { values: [Buffer.from(c.words.buffer, 0, n * 8)], defined: null, nulls: 0 }
  if (n > 0) {
    chunk.min = int64Bytes(Float64Array.of(c.min), 1, c.scale)
    chunk.max = int64Bytes(Float64Array.of(c.max), 1, c.scale)
  }
  return chunk
}

function int32Constant(v: number): ColumnChunk {
  const one = Buffer.allocUnsafe(4)
  one.writeInt32LE(v, 0)
  return { values: [], constant: one, defined: null, nulls: 0, min: one, max: one }
}

/** A property column's chunk in its type; a conflict column holds only the values that fit (./rescue.ts). */
function propertyChunk(g: RowGroupBuild, v: PropertyValues | undefined, col: PropertyColumn): ColumnChunk {
  const rows = g.rows
  if (!v) return { values: [], defined: new Uint8Array(rows), nulls: rows }
  if (col.conflict) return fittingChunk(g, v, col)
  const n = v.n
  const defined = new Uint8Array(rows)
  for (let i = 0; i < n; i++) defined[v.rows[i]!] = 1
  const chunk: ColumnChunk = { values: [], defined: n === rows ? null : defined, nulls: rows - n }
  if (col.type === 'DOUBLE') chunk.values.push(Buffer.from(v.nums.buffer, 0, n * 8))
  else if (col.type === 'BOOLEAN') chunk.values.push(packBooleans(new Uint8Array(v.nums.subarray(0, n)), n))
  else chunk.values.push(v.strs.bytes())
  return chunk
}
