import { ByteOut } from './byte-out.ts'
import { CompactWriter, T } from './thrift.ts'

/*
 * Parquet files as DuckDB writes them for the same table, minus compression and dictionaries: every
 * column OPTIONAL (as DuckDB declares them), one data page (v1, PLAIN values, RLE/bit-packed
 * definition levels) per column and row group, UNCOMPRESSED. The types, converted types and logical
 * types match what DuckDB's own writer declares (checked with parquet_schema()), so DuckDB reads these
 * files back as the same types and unions them by name with files it wrote itself.
 * Format: https://github.com/apache/parquet-format (parquet.thrift).
 */

/** The DuckDB types the warehouse uses. */
export type ColumnType = 'VARCHAR' | 'TIMESTAMP' | 'INTEGER' | 'BIGINT' | 'DOUBLE' | 'BOOLEAN'

export interface ColumnSpec {
  name: string
  type: ColumnType
}

/** One column's values in one row group. */
export interface ColumnChunk {
  /** PLAIN-encoded values of the rows that have one, in row order (pieces, concatenated). */
  values: Uint8Array[]
  /** Per row, 1 when it has a value, 0 for NULL; null when every row has one. */
  defined: Uint8Array | null
  nulls: number
  /** PLAIN-encoded min and max, for the statistics that let readers skip the row group. */
  min?: Uint8Array
  max?: Uint8Array
}

export interface RowGroup {
  rows: number
  /** In the order of the file's columns. */
  columns: ColumnChunk[]
}

const MAGIC = Buffer.from('PAR1', 'latin1')
const CREATED_BY = 'tagstream'

// parquet.thrift enums.
const TYPE = { BOOLEAN: 0, INT32: 1, INT64: 2, DOUBLE: 5, BYTE_ARRAY: 6 } as const
const CONVERTED = { UTF8: 0, TIMESTAMP_MICROS: 10, INT_32: 17, INT_64: 18 } as const
const REQUIRED = 0
const OPTIONAL = 1
const PLAIN = 0
const RLE = 3
const UNCOMPRESSED = 0
const DATA_PAGE = 0

const PHYSICAL: Record<ColumnType, { type: number; converted?: number }> = {
  VARCHAR: { type: TYPE.BYTE_ARRAY, converted: CONVERTED.UTF8 },
  TIMESTAMP: { type: TYPE.INT64, converted: CONVERTED.TIMESTAMP_MICROS },
  INTEGER: { type: TYPE.INT32, converted: CONVERTED.INT_32 },
  BIGINT: { type: TYPE.INT64, converted: CONVERTED.INT_64 },
  DOUBLE: { type: TYPE.DOUBLE },
  BOOLEAN: { type: TYPE.BOOLEAN },
}

/** A whole Parquet file, as pieces to write one after another. */
export function encodeParquet(columns: readonly ColumnSpec[], rowGroups: readonly RowGroup[]): Uint8Array[] {
  const pieces: Uint8Array[] = [MAGIC]
  let offset = MAGIC.length
  const groupMeta: Array<{ rows: number; start: number; size: number; chunks: Array<{ start: number; size: number; chunk: ColumnChunk }> }> = []
  for (const g of rowGroups) {
    if (g.columns.length !== columns.length) throw new Error('row group out of step with the columns')
    const start = offset
    const chunks = []
    for (const chunk of g.columns) {
      const levels = definitionLevels(chunk.defined, g.rows)
      let valueBytes = 0
      for (const v of chunk.values) valueBytes += v.length
      const pageSize = levels.length + valueBytes
      const header = pageHeader(g.rows, pageSize)
      pieces.push(header, levels, ...chunk.values)
      const size = header.length + pageSize
      chunks.push({ start: offset, size, chunk })
      offset += size
    }
    groupMeta.push({ rows: g.rows, start, size: offset - start, chunks })
  }

  const w = new CompactWriter(new ByteOut(4096)).begin()
  w.i32(1, 1)
  w.list(2, T.STRUCT, columns.length + 1)
  w.begin().i32(3, REQUIRED).string(4, 'schema').i32(5, columns.length).end()
  for (const c of columns) {
    const p = PHYSICAL[c.type]
    w.begin().i32(1, p.type).i32(3, OPTIONAL).string(4, c.name)
    if (p.converted !== undefined) w.i32(6, p.converted)
    // LogicalType.TIMESTAMP(isAdjustedToUTC = false, unit = MICROS): DuckDB's TIMESTAMP, not TIMESTAMPTZ.
    if (c.type === 'TIMESTAMP') w.struct(10).struct(8).bool(1, false).struct(2).struct(2).end().end().end().end()
    w.end()
  }
  let rows = 0
  for (const g of groupMeta) rows += g.rows
  w.i64(3, rows)
  w.list(4, T.STRUCT, groupMeta.length)
  for (const [ordinal, g] of groupMeta.entries()) {
    w.begin().list(1, T.STRUCT, g.chunks.length)
    for (const [i, { start, size, chunk }] of g.chunks.entries()) {
      const c = columns[i]!
      w.begin().i64(2, 0).struct(3)
      w.i32(1, PHYSICAL[c.type].type)
      w.list(2, T.I32, 2).i32Element(PLAIN).i32Element(RLE)
      w.list(3, T.BINARY, 1).stringElement(c.name)
      w.i32(4, UNCOMPRESSED).i64(5, g.rows).i64(6, size).i64(7, size).i64(9, start)
      w.struct(12)
      if (chunk.max && chunk.min) w.binary(1, chunk.max).binary(2, chunk.min)
      w.i64(3, chunk.nulls)
      if (chunk.max && chunk.min) w.binary(5, chunk.max).binary(6, chunk.min)
      w.end()
      w.end().end()
    }
    w.i64(2, g.size).i64(3, g.rows).i64(5, g.start).i64(6, g.size).i32(7, ordinal).end()
  }
  w.string(6, CREATED_BY)
  // ColumnOrder.TYPE_ORDER for every column: min/max follow the type's own order.
  w.list(7, T.STRUCT, columns.length)
  for (let i = 0; i < columns.length; i++) w.begin().struct(1).end().end()
  w.end()
  const footer = Buffer.from(w.out.bytes())
  const tail = Buffer.allocUnsafe(8)
  tail.writeUInt32LE(footer.length, 0)
  MAGIC.copy(tail, 4)
  pieces.push(footer, tail)
  return pieces
}

function pageHeader(rows: number, size: number): Buffer {
  const w = new CompactWriter(new ByteOut(64)).begin()
  w.i32(1, DATA_PAGE).i32(2, size).i32(3, size)
  w.struct(5).i32(1, rows).i32(2, PLAIN).i32(3, RLE).i32(4, RLE).end()
  w.end()
  return Buffer.from(w.out.bytes())
}

/**
 * Definition levels (max level 1) in the RLE/bit-packed hybrid, after their 4-byte length: one RLE
 * run when every row has a value (or none does), else one bit-packed run over all rows.
 */
function definitionLevels(defined: Uint8Array | null, rows: number): Buffer {
  const out = new ByteOut(16 + (defined ? rows >> 3 : 0))
  out.u32(0)
  let all = -1
  if (defined === null) all = 1
  else if (defined.indexOf(1 - defined[0]!) < 0 || rows === 0) all = defined[0] ?? 1
  if (all >= 0) {
    varint(out, rows * 2)
    out.byte(all)
  } else {
    const groups = Math.ceil(rows / 8)
    varint(out, groups * 2 + 1)
    out.reserve(groups)
    const b = out.buf
    let p = out.pos
    for (let g = 0; g < groups; g++) {
      let byte = 0
      const base = g * 8
      const n = Math.min(8, rows - base)
      for (let k = 0; k < n; k++) byte |= defined![base + k]! << k
      b[p++] = byte
    }
    out.pos = p
  }
  out.u32At(0, out.pos - 4)
  return Buffer.from(out.bytes())
}

function varint(out: ByteOut, v: number): void {
  while (v >= 0x80) {
    out.byte((v % 0x80) | 0x80)
    v = Math.floor(v / 0x80)
  }
  out.byte(v)
}

/** BOOLEAN values in PLAIN encoding: one bit each, least significant first. */
export function packBooleans(values: Uint8Array, n: number): Buffer {
  const out = Buffer.alloc(Math.ceil(n / 8))
  for (let i = 0; i < n; i++) if (values[i]) out[i >> 3]! |= 1 << (i & 7)
  return out
}

/**
 * INT64 values in PLAIN encoding (little-endian two's complement) from integral numbers, each times
 * `scale` (1000: milliseconds to microseconds), exact for every safe integer: the product is formed
 * in 32-bit halves, never as a double that could round.
 */
export function int64Bytes(values: Float64Array, n: number, scale = 1): Buffer {
  const words = new Int32Array(n * 2)
  for (let i = 0; i < n; i++) {
    const v = values[i]!
    const m = v * scale
    if (m <= Number.MAX_SAFE_INTEGER && m >= -Number.MAX_SAFE_INTEGER) {
      // Every time and offset the sink meets: the product is exact, and so are its halves.
      const hi = Math.floor(m / TWO_32)
      words[2 * i] = m - hi * TWO_32
      words[2 * i + 1] = hi
    } else {
      const hi = Math.floor(v / TWO_32)
      const lo = (v - hi * TWO_32) * scale
      const carry = Math.floor(lo / TWO_32)
      words[2 * i] = lo - carry * TWO_32
      words[2 * i + 1] = hi * scale + carry
    }
  }
  return Buffer.from(words.buffer, 0, n * 8)
}

const TWO_32 = 4294967296
