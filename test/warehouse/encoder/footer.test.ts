import { parquetMetadata } from 'hyparquet'
import { describe, expect, it } from 'vitest'
import { encodeParquet, packBooleans, UNCOMPRESSED, SNAPPY, type ColumnChunk, type ColumnSpec, type PageCodec } from '../../../src/warehouse/sink/parquet-encode.ts'
import { bytes, int, list, readStruct, structs, sub, text, type Struct } from './compact-reader.ts'
import { violations } from './parquet-thrift.ts'

/*
 * The Thrift metadata of a file from the sink's encoder (footer and page headers), decoded by the
 * reader in ./compact-reader.ts and held to parquet.thrift's declared types (./parquet-thrift.ts),
 * then compared field by field with what the file holds: offsets that point at page headers, sizes
 * that add up, counts, statistics and the schema's types; and with hyparquet's reading of it.
 */

const columns: ColumnSpec[] = [
  { name: 'event', type: 'VARCHAR' },
  { name: 'ts', type: 'TIMESTAMPTZ' },
  { name: 'k', type: 'INTEGER' },
  { name: 'offset', type: 'BIGINT' },
  { name: 'amount', type: 'DOUBLE' },
  { name: 'win', type: 'BOOLEAN' },
  { name: 'note', type: 'VARCHAR' },
]

const i64 = (v: bigint): Buffer => {
  const b = Buffer.alloc(8)
  b.writeBigInt64LE(v)
  return b
}
const i32 = (v: number): Buffer => {
  const b = Buffer.alloc(4)
  b.writeInt32LE(v)
  return b
}
const str = (s: string): Buffer => {
  const b = Buffer.from(s, 'utf8')
  return Buffer.concat([i32(b.length), b])
}

/** A row group of `rows` rows; `note` is NULL on every third row. */
function group(rows: number, first: number): { rows: number; columns: ColumnChunk[] } {
  const idx = Array.from({ length: rows }, (_, i) => first + i)
  const defined = new Uint8Array(idx.map((i) => (i % 3 === 0 ? 0 : 1)))
  const notes = idx.filter((i) => i % 3 !== 0)
  const ks = idx.map((i) => (i % 5) - 7)
  const ts = idx.map((i) => 1_767_225_600_000_000n + BigInt(i) * 1000n)
  return {
    rows,
    columns: [
      { values: [], constant: str('spin'), defined: null, nulls: 0 },
      { values: [Buffer.concat(ts.map(i64))], defined: null, nulls: 0, min: i64(ts[0]!), max: i64(ts[rows - 1]!) },
      { values: [Buffer.concat(ks.map(i32))], defined: null, nulls: 0, min: i32(Math.min(...ks)), max: i32(Math.max(...ks)) },
      { values: [Buffer.concat(idx.map((i) => i64(BigInt(i))))], defined: null, nulls: 0, min: i64(BigInt(first)), max: i64(BigInt(first + rows - 1)) },
      { values: [Buffer.from(new Float64Array(idx.map((i) => i / 4)).buffer)], defined: null, nulls: 0 },
      { values: [packBooleans(new Uint8Array(idx.map((i) => i % 2)), rows)], defined: null, nulls: 0 },
      { values: [Buffer.concat(notes.map((i) => str(`n${i}`)))], defined, nulls: rows - notes.length },
    ],
  }
}

const ROWS = [1000, 1, 300]

/** One page header at `at`: its struct and where its body starts. */
function pageAt(file: Uint8Array, at: number): { header: Struct; body: number } {
  const { value, end } = readStruct(file.subarray(at))
  return { header: value, body: at + end }
}

describe('the footer and page headers', () => {
  for (const codec of [SNAPPY, UNCOMPRESSED] as PageCodec[]) {
    it(`declare every field with parquet.thrift's type, and describe the file as it is (${codec.name})`, () => {
      let first = 0
      const groups = ROWS.map((rows) => {
        const g = group(rows, first)
        first += rows
        return g
      })
      const file = Buffer.concat(encodeParquet(columns, groups, { codec }))
      expect(file.subarray(0, 4).toString('latin1')).toBe('PAR1')
      expect(file.subarray(-4).toString('latin1')).toBe('PAR1')
      const footerLength = file.readUInt32LE(file.length - 8)
      const footerStart = file.length - 8 - footerLength
      const { value: meta, end } = readStruct(file.subarray(footerStart, file.length - 8))
      expect(end).toBe(footerLength)
      expect(violations(meta, 'FileMetaData')).toEqual([])

      expect(int(meta, 1)).toBe(1n)
      expect(int(meta, 3)).toBe(BigInt(first))
      expect(text(meta, 6)).toMatch(/^tagstream version \d+\.\d+\.\d+ \(build \S+\)$/)
      // Schema: a root with one child per column, every column OPTIONAL, types as DuckDB declares them.
      const schema = structs(list(meta, 2))
      expect(schema.map((e) => text(e, 4))).toEqual(['schema', ...columns.map((c) => c.name)])
      expect([int(schema[0]!, 5), int(schema[0]!, 3)]).toEqual([BigInt(columns.length), 0n])
      const physical = schema.slice(1).map((e) => [int(e, 1), int(e, 3), e.has(6) ? int(e, 6) : null])
      // BYTE_ARRAY 6 / UTF8 0; INT64 2 / TIMESTAMP_MICROS 10; INT32 1 / INT_32 17; INT64 / INT_64 18; DOUBLE 5; BOOLEAN 0.
      expect(physical).toEqual([
        [6n, 1n, 0n],
        [2n, 1n, 10n],
        [1n, 1n, 17n],
        [2n, 1n, 18n],
        [5n, 1n, null],
        [0n, 1n, null],
        [6n, 1n, 0n],
      ])
      const tsLogical = sub(sub(schema[2]!, 10), 8)
      expect([...sub(tsLogical, 2).keys()]).toEqual([2]) // MICROS
      expect(tsLogical.get(1)?.value).toEqual({ wire: 'bool', v: true }) // isAdjustedToUTC
      for (const e of schema.slice(1)) if (e !== schema[2]) expect(e.has(10)).toBe(false)
      const orders = structs(list(meta, 7))
      expect(orders.map((o) => [...o.keys()])).toEqual(columns.map(() => [1]))

      // Row groups: counts, ordinals, and chunk metadata that matches the pages where it points.
      const rowGroups = structs(list(meta, 4))
      expect(rowGroups.map((g) => int(g, 3))).toEqual(ROWS.map(BigInt))
      expect(rowGroups.map((g) => int(g, 7))).toEqual(ROWS.map((_, i) => BigInt(i)))
      let next = 4
      for (const [gi, g] of rowGroups.entries()) {
        expect(int(g, 5)).toBe(BigInt(next))
        let compressed = 0n
        let uncompressed = 0n
        for (const [ci, chunk] of structs(list(g, 1)).entries()) {
          const m = sub(chunk, 3)
          const name = `group ${gi} ${columns[ci]!.name}`
          expect(int(m, 1), name).toBe(physical[ci]![0])
          expect(list(m, 3).map((v) => (v.wire === 'binary' ? Buffer.from(v.v).toString() : null))).toEqual([columns[ci]!.name])
          expect(int(m, 4)).toBe(BigInt(codec.id))
          expect(int(m, 5)).toBe(BigInt(ROWS[gi]!))
          // The chunk's pages: a dictionary page (the constant column) then one data page, back to back from `next`.
          const dictionary = m.has(11)
          expect(dictionary, name).toBe(ci === 0)
          let at = next
          let chunkCompressed = 0
          let chunkUncompressed = 0
          if (dictionary) {
            expect(int(m, 11)).toBe(BigInt(at))
            const { header, body } = pageAt(file, at)
            expect(violations(header, 'PageHeader')).toEqual([])
            expect(int(header, 1)).toBe(2n) // DICTIONARY_PAGE
            expect([int(sub(header, 7), 1), int(sub(header, 7), 2)]).toEqual([1n, 0n]) // one value, PLAIN
            expect(int(header, 2)).toBe(BigInt(str('spin').length))
            chunkCompressed += body - at + Number(int(header, 3))
            chunkUncompressed += body - at + Number(int(header, 2))
            at = body + Number(int(header, 3))
          }
          expect(int(m, 9), name).toBe(BigInt(at))
          const { header, body } = pageAt(file, at)
          expect(violations(header, 'PageHeader')).toEqual([])
          expect(int(header, 1)).toBe(0n) // DATA_PAGE
          const dp = sub(header, 5)
          // num_values counts NULLs too; values PLAIN (0) or PLAIN_DICTIONARY (2); levels RLE (3).
          expect([int(dp, 1), int(dp, 2), int(dp, 3), int(dp, 4)]).toEqual([BigInt(ROWS[gi]!), dictionary ? 2n : 0n, 3n, 3n])
          const encodings = list(m, 2).map((v) => (v.wire === 'i32' ? v.v : null))
          expect(encodings).toEqual([dictionary ? 2n : 0n, 3n])
          if (codec === UNCOMPRESSED) expect(int(header, 3)).toBe(int(header, 2))
          chunkCompressed += body - at + Number(int(header, 3))
          chunkUncompressed += body - at + Number(int(header, 2))
          at = body + Number(int(header, 3))
          expect([int(m, 7), int(m, 6)], name).toEqual([BigInt(chunkCompressed), BigInt(chunkUncompressed)])
          compressed += BigInt(chunkCompressed)
          uncompressed += BigInt(chunkUncompressed)
          next = at

          // Statistics: the null count always; min and max (both the old and the new fields) when given.
          const stats = sub(m, 12)
          const nulls = ci === 6 ? BigInt(groups[gi]!.columns[6]!.nulls) : 0n
          expect(int(stats, 3), name).toBe(nulls)
          const given = groups[gi]!.columns[ci]!
          if (given.min && given.max) {
            for (const [id, want] of [
              [1, given.max],
              [2, given.min],
              [5, given.max],
              [6, given.min],
            ] as const)
              expect(Buffer.from(bytes(stats, id)).equals(want), `${name} stat ${id}`).toBe(true)
          } else expect([...stats.keys()]).toEqual([3])
        }
        expect([int(g, 6), int(g, 2)]).toEqual([compressed, uncompressed])
      }
      // The pages end where the footer starts.
      expect(next).toBe(footerStart)

      // hyparquet reads the same footer to the same numbers.
      const hm = parquetMetadata(file.buffer.slice(file.byteOffset, file.byteOffset + file.length))
      expect(hm.num_rows).toBe(BigInt(first))
      expect(hm.schema.map((e) => e.name)).toEqual(['schema', ...columns.map((c) => c.name)])
      expect(hm.schema[2]?.logical_type).toEqual({ type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' })
      expect(hm.row_groups.map((g) => [g.num_rows, g.file_offset, g.total_byte_size, g.total_compressed_size, g.ordinal])).toEqual(
        rowGroups.map((g) => [int(g, 3), int(g, 5), int(g, 2), int(g, 6), Number(int(g, 7))]),
      )
      for (const [gi, g] of hm.row_groups.entries()) {
        const mine = structs(list(rowGroups[gi]!, 1)).map((c) => sub(c, 3))
        expect(g.columns.map((c) => [c.meta_data?.data_page_offset, c.meta_data?.dictionary_page_offset, c.meta_data?.total_compressed_size, c.meta_data?.statistics?.null_count])).toEqual(
          mine.map((m) => [int(m, 9), m.has(11) ? int(m, 11) : undefined, int(m, 7), int(sub(m, 12), 3)]),
        )
      }
    })
  }
})
