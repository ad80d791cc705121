import { ByteOut } from './byte-out.ts'
import { CREATED_BY } from './created-by.ts'
import { snappyCompress, snappyMaxLength, type ValuesHint } from './snappy.ts'
import { CompactWriter, T } from './thrift.ts'

/*
 * Parquet files as DuckDB writes them for the same table: every column OPTIONAL (as DuckDB declares
 * them), one data page (v1, RLE/bit-packed definition levels) per column and row group, pages
 * SNAPPY-compressed. A column whose values are all one value (the event name, the partition, most
 * often the tenant) is a one-entry dictionary and one run of its index, as DuckDB writes it; every
 * other column is PLAIN. The types, converted types and logical types match what DuckDB's own writer
 * declares (checked with parquet_schema()), so DuckDB reads these files back as the same types and
 * unions them by name with files it wrote itself. Format: https://github.com/apache/parquet-format
 * (parquet.thrift).
 */

/**
 * The DuckDB types the warehouse's event files use. TIMESTAMPTZ is an instant: INT64 microseconds
 * since the epoch, declared isAdjustedToUTC (DuckDB reads it as TIMESTAMP WITH TIME ZONE).
 */
export type ColumnType = 'VARCHAR' | 'TIMESTAMPTZ' | 'INTEGER' | 'BIGINT' | 'DOUBLE' | 'BOOLEAN'

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
  /** Every value is this one (PLAIN-encoded): `values` is then not read. Found by itself otherwise. */
  constant?: Uint8Array
}

export interface RowGroup {
  rows: number
  /** In the order of the file's columns. */
  columns: ColumnChunk[]
  /**
   * Where this group's compressed pages go, reset here: the returned pieces point into it until it
   * is next used. Row groups reuse theirs from flush to flush (it reaches full size once); without
   * one, a new buffer.
   */
  pages?: ByteOut
}

/** How page bodies are compressed: Parquet's CompressionCodec and, unless UNCOMPRESSED, the compressor. */
export interface PageCodec {
  name: string
  /** parquet.thrift CompressionCodec. */
  id: number
  /** The most bytes `n` input bytes, in `pieces` pieces, can compress to. */
  maxLength?(n: number, pieces: number): number
  /** Compresses the pieces, as one input, into `out` from `at`; returns the end. `values`: what the pieces hold, for a codec that can use it. */
  compress?(pieces: readonly Uint8Array[], out: Uint8Array, at: number, values?: ValuesHint): number
}

export const SNAPPY: PageCodec = { name: 'snappy', id: 1, maxLength: snappyMaxLength, compress: snappyCompress }
export const UNCOMPRESSED: PageCodec = { name: 'uncompressed', id: 0 }

export interface EncodeOptions {
  /** Default SNAPPY (docs/warehouse-sink.md says why). */
  codec?: PageCodec
  /** Constant columns as one-entry dictionaries (default true). */
  dictionaries?: boolean
}

const MAGIC = Buffer.from('PAR1', 'latin1')

// parquet.thrift enums.
const TYPE = { BOOLEAN: 0, INT32: 1, INT64: 2, DOUBLE: 5, BYTE_ARRAY: 6 } as const
const CONVERTED = { UTF8: 0, TIMESTAMP_MICROS: 10, INT_32: 17, INT_64: 18 } as const
const REQUIRED = 0
const OPTIONAL = 1
const PLAIN = 0
const PLAIN_DICTIONARY = 2
const RLE = 3
const DATA_PAGE = 0
const DICTIONARY_PAGE = 2

const PHYSICAL: Record<ColumnType, { type: number; converted?: number; width: number }> = {
  VARCHAR: { type: TYPE.BYTE_ARRAY, converted: CONVERTED.UTF8, width: 0 },
  TIMESTAMPTZ: { type: TYPE.INT64, converted: CONVERTED.TIMESTAMP_MICROS, width: 8 },
  INTEGER: { type: TYPE.INT32, converted: CONVERTED.INT_32, width: 4 },
  BIGINT: { type: TYPE.INT64, converted: CONVERTED.INT_64, width: 8 },
  DOUBLE: { type: TYPE.DOUBLE, width: 8 },
  BOOLEAN: { type: TYPE.BOOLEAN, width: 0 },
}

/** A column chunk as laid out: where its pages start, their sizes with headers, and how its values are encoded. */
interface ChunkMeta {
  chunk: ColumnChunk
  start: number
  dataOffset: number
  dictionaryOffset: number | null
  compressed: number
  uncompressed: number
}

/** A whole Parquet file, as pieces to write one after another. */
export function encodeParquet(columns: readonly ColumnSpec[], rowGroups: readonly RowGroup[], options: EncodeOptions = {}): Uint8Array[] {
  const codec = options.codec ?? SNAPPY
  const dictionaries = options.dictionaries ?? true
  const pieces: Uint8Array[] = [MAGIC]
  let offset = MAGIC.length
  const groupMeta: Array<{ rows: number; start: number; compressed: number; uncompressed: number; chunks: ChunkMeta[] }> = []
  for (const g of rowGroups) {
    if (g.columns.length !== columns.length) throw new Error('row group out of step with the columns')
    const bodies = g.columns.map((chunk, i) => pageBodies(chunk, g.rows, columns[i]!.type, dictionaries))
    const out = codec.compress ? (g.pages ?? new ByteOut()) : null
    out?.reset()
    const page = (body: readonly Uint8Array[], size: number, values: ValuesHint | undefined, header: (compressedSize: number) => Buffer): { compressed: number; uncompressed: number } => {
      let stored: readonly Uint8Array[] = body
      let storedSize = size
      if (out) {
        // Growing moves later pages to a new buffer; earlier pages keep the one they were written in.
        out.reserve(codec.maxLength!(size, body.length))
        const at = out.pos
        out.pos = codec.compress!(body, out.buf, at, values)
        stored = [out.buf.subarray(at, out.pos)]
        storedSize = out.pos - at
      }
      const h = header(storedSize)
      pieces.push(h, ...stored)
      offset += h.length + storedSize
      return { compressed: h.length + storedSize, uncompressed: h.length + size }
    }
    const start = offset
    let compressed = 0
    let uncompressed = 0
    const chunks: ChunkMeta[] = []
    for (const [i, b] of bodies.entries()) {
      // A data page is its definition levels, then the values, from its second piece on.
      const kind = valuesKind(columns[i]!.type)
      const meta: ChunkMeta = { chunk: g.columns[i]!, start: offset, dataOffset: offset, dictionaryOffset: null, compressed: 0, uncompressed: 0 }
      if (b.dictionary) {
        const dictionary = b.dictionary
        meta.dictionaryOffset = offset
        const sizes = page([dictionary], dictionary.length, undefined, (stored) => dictionaryPageHeader(dictionary.length, stored))
        meta.compressed += sizes.compressed
        meta.uncompressed += sizes.uncompressed
      }
      meta.dataOffset = offset
      const sizes = page(b.data, b.dataSize, kind && !b.dictionary ? { from: 1, kind } : undefined, (stored) => dataPageHeader(g.rows, b.dataSize, stored, b.dictionary ? PLAIN_DICTIONARY : PLAIN))
      meta.compressed += sizes.compressed
      meta.uncompressed += sizes.uncompressed
      compressed += meta.compressed
      uncompressed += meta.uncompressed
      chunks.push(meta)
    }
    groupMeta.push({ rows: g.rows, start, compressed, uncompressed, chunks })
  }

  const w = new CompactWriter(new ByteOut(4096)).begin()
  w.i32(1, 1)
  w.list(2, T.STRUCT, columns.length + 1)
  w.begin().i32(3, REQUIRED).string(4, 'schema').i32(5, columns.length).end()
  for (const c of columns) {
    const p = PHYSICAL[c.type]
    w.begin().i32(1, p.type).i32(3, OPTIONAL).string(4, c.name)
    if (p.converted !== undefined) w.i32(6, p.converted)
    // LogicalType.TIMESTAMP(isAdjustedToUTC = true, unit = MICROS): an instant, as DuckDB writes TIMESTAMPTZ.
    if (c.type === 'TIMESTAMPTZ') w.struct(10).struct(8).bool(1, true).struct(2).struct(2).end().end().end().end()
    w.end()
  }
  let rows = 0
  for (const g of groupMeta) rows += g.rows
  w.i64(3, rows)
  w.list(4, T.STRUCT, groupMeta.length)
  for (const [ordinal, g] of groupMeta.entries()) {
    w.begin().list(1, T.STRUCT, g.chunks.length)
    for (const [i, m] of g.chunks.entries()) {
      const c = columns[i]!
      const chunk = m.chunk
      w.begin().i64(2, 0).struct(3)
      w.i32(1, PHYSICAL[c.type].type)
      if (m.dictionaryOffset === null) w.list(2, T.I32, 2).i32Element(PLAIN).i32Element(RLE)
      else w.list(2, T.I32, 2).i32Element(PLAIN_DICTIONARY).i32Element(RLE)
      w.list(3, T.BINARY, 1).stringElement(c.name)
      w.i32(4, codec.id).i64(5, g.rows).i64(6, m.uncompressed).i64(7, m.compressed).i64(9, m.dataOffset)
      if (m.dictionaryOffset !== null) w.i64(11, m.dictionaryOffset)
      w.struct(12)
      if (chunk.max && chunk.min) w.binary(1, chunk.max).binary(2, chunk.min)
      w.i64(3, chunk.nulls)
      if (chunk.max && chunk.min) w.binary(5, chunk.max).binary(6, chunk.min)
      w.end()
      w.end().end()
    }
    w.i64(2, g.uncompressed).i64(3, g.rows).i64(5, g.start).i64(6, g.compressed).i16(7, ordinal).end()
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

/** What a column's PLAIN values are to the compressor: strings, or 8-byte integers (times, offsets). */
function valuesKind(type: ColumnType): ValuesHint['kind'] | null {
  return type === 'VARCHAR' ? 'byteArrays' : type === 'TIMESTAMPTZ' || type === 'BIGINT' ? 'int64' : null
}

/** A column chunk's pages before compression: the data page's body, and the dictionary's when it has one. */
function pageBodies(chunk: ColumnChunk, rows: number, type: ColumnType, dictionaries: boolean): { data: Uint8Array[]; dataSize: number; dictionary: Uint8Array | null } {
  const levels = definitionLevels(chunk.defined, rows)
  const count = rows - chunk.nulls
  const constant = dictionaries ? (chunk.constant ?? constantValue(chunk, type, count)) : null
  if (constant && count > 0) {
    // Bit width 1 (as DuckDB writes a one-entry dictionary), then one RLE run of index 0.
    const indices = new ByteOut(16)
    indices.byte(1)
    varint(indices, count * 2)
    indices.byte(0)
    const body = indices.bytes()
    return { data: [levels, body], dataSize: levels.length + body.length, dictionary: constant }
  }
  const values = chunk.constant ? [repeat(chunk.constant, count)] : chunk.values
  let size = levels.length
  for (const v of values) size += v.length
  return { data: [levels, ...values], dataSize: size, dictionary: null }
}

/** A PLAIN-encoded value n times (a constant column without dictionaries). */
function repeat(one: Uint8Array, n: number): Buffer {
  const out = Buffer.allocUnsafe(one.length * n)
  if (n === 0) return out
  out.set(one, 0)
  // Doubling copies: a few native calls instead of one per row.
  for (let filled = one.length; filled < out.length; filled *= 2) out.copy(out, filled, 0, Math.min(filled, out.length - filled))
  return out
}

/**
 * The value every row of the chunk has, or null. Cheap when there is none: lengths settle most
 * columns, and the comparison (of the values with themselves one value further on) stops at the
 * first difference.
 */
function constantValue(chunk: ColumnChunk, type: ColumnType, count: number): Uint8Array | null {
  if (count < 2 || chunk.values.length !== 1 || type === 'BOOLEAN') return null
  const v = chunk.values[0]!
  if (v.length < 4) return null
  const one = type === 'VARCHAR' ? 4 + (v[0]! | (v[1]! << 8) | (v[2]! << 16) | (v[3]! << 24)) : PHYSICAL[type].width
  if (one <= 0 || v.length !== one * count) return null
  return Buffer.compare(v.subarray(one), v.subarray(0, v.length - one)) === 0 ? v.subarray(0, one) : null
}

function dataPageHeader(rows: number, size: number, stored: number, encoding: number): Buffer {
  const w = new CompactWriter(new ByteOut(64)).begin()
  w.i32(1, DATA_PAGE).i32(2, size).i32(3, stored)
  w.struct(5).i32(1, rows).i32(2, encoding).i32(3, RLE).i32(4, RLE).end()
  w.end()
  return Buffer.from(w.out.bytes())
}

function dictionaryPageHeader(size: number, stored: number): Buffer {
  const w = new CompactWriter(new ByteOut(64)).begin()
  w.i32(1, DICTIONARY_PAGE).i32(2, size).i32(3, stored)
  // One value, PLAIN-encoded (as DuckDB writes its dictionary pages).
  w.struct(7).i32(1, 1).i32(2, PLAIN).end()
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
