import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { parquetMetadata, parquetReadObjects, snappyUncompress } from 'hyparquet'
import { afterAll, describe, expect, it } from 'vitest'
import { SNAPPY, UNCOMPRESSED, encodeParquet, type ColumnChunk, type ColumnSpec, type PageCodec } from '../../src/warehouse/sink/parquet-encode.ts'
import { snappyCompress, snappyMaxLength, type ValuesHint } from '../../src/warehouse/sink/snappy.ts'
import { mulberry32 } from '../support/prng.ts'
import { plainStrings } from './plain-strings.ts'

/*
 * The sink's own Parquet pieces, checked against readers written by others: its Snappy compressor
 * against hyparquet's decompressor, and its pages (compressed or not, constant columns as
 * dictionaries or not) read back by hyparquet and by DuckDB.
 */

const tmp = mkdtempSync(join(tmpdir(), 'tagstream-parquet-encode-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

function snappyRoundTrip(pieces: readonly Uint8Array[], values?: ValuesHint): { packed: number; same: boolean } {
  const input = Buffer.concat(pieces)
  const out = Buffer.alloc(snappyMaxLength(input.length) + 8)
  const end = snappyCompress(pieces, out, 3, values)
  expect(end - 3).toBeLessThanOrEqual(snappyMaxLength(input.length))
  const back = new Uint8Array(input.length)
  snappyUncompress(out.subarray(3, end), back)
  return { packed: end - 3, same: Buffer.from(back).equals(input) }
}

const plain = plainStrings

describe('snappy', () => {
  it('round-trips through another implementation, whatever the input', () => {
    const rnd = mulberry32(42)
    const random = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)))
    const text = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => `{"bet":${i % 7},"user":"u${Math.floor(rnd() * 50)}"}`).join(''))
    const cases: Uint8Array[][] = [
      [],
      [Buffer.alloc(0)],
      [Buffer.from('a')],
      [Buffer.from('fourteen bytes')],
      [Buffer.from('abcdabcdabcdabcdabcdabcd')],
      [random(1000)],
      [Buffer.alloc(300_000, 7)], // long copies, many blocks
      [random(70_000)], // literals across a block boundary
      [text(5_000)],
      [text(100), random(50), Buffer.alloc(0), text(20_000)], // pieces: matches never reach across them
      [Buffer.from(new Float64Array(Array.from({ length: 40_000 }, (_, i) => 1.7e12 + i * 17)).buffer)],
    ]
    for (const pieces of cases) {
      expect(snappyRoundTrip(pieces).same).toBe(true)
      // The hints change how matches are looked for, never the bytes that come back, even when wrong.
      for (const kind of ['byteArrays', 'int64'] as const) expect(snappyRoundTrip(pieces, { from: 0, kind }).same).toBe(true)
    }
    // Byte arrays whose values match only at their starts (random ids), and ones that match inside too (JSON).
    const ids = plain(Array.from({ length: 20_000 }, (_, i) => `${(1_700_000_000 + i).toString(16)}-${random(12).toString('hex')}`))
    const json = plain(Array.from({ length: 5_000 }, (_, i) => JSON.stringify({ amount: i % 97, item: ['sword', 'gems'][i % 2], at: `2026-11-0${1 + (i % 3)}` })))
    const plainIds = snappyRoundTrip([ids])
    const hintedIds = snappyRoundTrip([Buffer.alloc(6), ids], { from: 1, kind: 'byteArrays' })
    expect(hintedIds.same).toBe(true)
    expect(hintedIds.packed).toBeLessThan(plainIds.packed * 1.05)
    expect(snappyRoundTrip([json], { from: 0, kind: 'byteArrays' }).packed).toBe(snappyRoundTrip([json]).packed)
    // INT64 values: growing (times), runs of one value, falling, random; and a length that is not a multiple of 8.
    const int64 = (f: (i: number) => bigint, n = 30_000) => Buffer.from(new BigInt64Array(Array.from({ length: n }, (_, i) => f(i))).buffer)
    const times = int64((i) => 1_793_491_200_000_000n + BigInt(i * 8_000 + Math.floor(rnd() * 3_000)))
    for (const values of [
      times,
      int64((i) => BigInt(Math.floor(i / 100))),
      int64((i) => BigInt(-i * 1_000_003)),
      int64(() => BigInt(Math.floor(rnd() * 2 ** 52)) * 4097n),
      Buffer.concat([times, Buffer.from('tail')]),
    ]) {
      expect(snappyRoundTrip([Buffer.alloc(6), values], { from: 1, kind: 'int64' }).same).toBe(true)
    }
    expect(snappyRoundTrip([times], { from: 0, kind: 'int64' }).packed).toBeLessThan(times.length * 0.7)

    // And it compresses: a constant run to almost nothing, JSON text to a fraction.
    expect(snappyRoundTrip([Buffer.alloc(300_000, 7)]).packed).toBeLessThan(300_000 / 20)
    expect(snappyRoundTrip([text(5_000)]).packed).toBeLessThan(Buffer.byteLength(text(5_000)) / 2)
  })
})

describe('encodeParquet', () => {
  const columns: ColumnSpec[] = [
    { name: 'same', type: 'VARCHAR' },
    { name: 'given', type: 'VARCHAR' },
    { name: 'text', type: 'VARCHAR' },
    { name: 'n', type: 'DOUBLE' },
    { name: 'k', type: 'INTEGER' },
    { name: 'at', type: 'TIMESTAMPTZ' },
  ]
  const rows = 1000
  const defined = new Uint8Array(rows).map((_, i) => (i % 3 === 0 ? 0 : 1))
  const kept = [...defined.keys()].filter((i) => defined[i] === 1)
  const chunks: ColumnChunk[] = [
    // Constant, with NULLs between: found by itself.
    { values: [plain(kept.map(() => 'spin'))], defined, nulls: rows - kept.length },
    // Constant, given as such.
    { values: [], constant: plain(['default']), defined: null, nulls: 0 },
    { values: [plain(Array.from({ length: rows }, (_, i) => `t${i}`))], defined: null, nulls: 0 },
    // One value but for the last row: not constant.
    { values: [Buffer.from(new Float64Array(Array.from({ length: rows }, (_, i) => (i === rows - 1 ? 2 : 1))).buffer)], defined: null, nulls: 0 },
    { values: [Buffer.from(new Int32Array(rows).fill(7).buffer)], defined: null, nulls: 0 },
    { values: [Buffer.from(new BigInt64Array(Array.from({ length: rows }, (_, i) => 1_767_225_600_000_000n + BigInt(i))).buffer)], defined: null, nulls: 0 },
  ]
  const expected = Array.from({ length: rows }, (_, i) => ({
    same: defined[i] ? 'spin' : null,
    given: 'default',
    text: `t${i}`,
    n: i === rows - 1 ? 2 : 1,
    k: 7,
    at: 1_767_225_600_000_000n + BigInt(i),
  }))

  for (const [codec, dictionaries] of [
    [SNAPPY, true],
    [SNAPPY, false],
    [UNCOMPRESSED, true],
    [UNCOMPRESSED, false],
  ] as Array<[PageCodec, boolean]>) {
    it(`writes pages ${codec.name}${dictionaries ? ', constant columns as dictionaries,' : ''} that hyparquet and DuckDB read back`, async () => {
      const bytes = Buffer.concat(
        encodeParquet(
          columns,
          [
            { rows, columns: chunks },
            { rows, columns: chunks },
          ],
          { codec, dictionaries },
        ),
      )
      const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)
      const meta = parquetMetadata(file)
      const chunkMeta = meta.row_groups[0]!.columns.map((c) => c.meta_data!)
      expect(chunkMeta.map((c) => c.codec)).toEqual(columns.map(() => (codec === SNAPPY ? 'SNAPPY' : 'UNCOMPRESSED')))
      const dictionary = chunkMeta.map((c) => c.dictionary_page_offset !== undefined)
      expect(dictionary).toEqual(dictionaries ? [true, true, false, false, true, false] : columns.map(() => false))
      for (const c of chunkMeta) if (codec === UNCOMPRESSED) expect(c.total_compressed_size).toBe(c.total_uncompressed_size)
      const got = await parquetReadObjects({ file, parsers: { timestampFromMicroseconds: (us: bigint) => us } })
      expect(got).toEqual([...expected, ...expected])

      const path = join(tmp, `${codec.name}-${dictionaries}.parquet`)
      writeFileSync(path, bytes)
      const db = await DuckDBInstance.create(':memory:')
      const c = await db.connect()
      try {
        const [r] = (
          await c.runAndReadAll(
            `SELECT count(*) AS n, count(same) AS same, count(DISTINCT given) AS given, sum(n) AS sum, min(k) AS k, max(epoch_us("at")) AS at, count(DISTINCT text) AS texts FROM '${path}'`,
          )
        ).getRowObjectsJS()
        expect(r).toEqual({ n: 2n * BigInt(rows), same: 2n * BigInt(kept.length), given: 1n, sum: 2 * (rows + 1), k: 7, at: 1_767_225_600_000_000n + BigInt(rows - 1), texts: BigInt(rows) })
      } finally {
        c.closeSync()
        db.closeSync()
      }
    })
  }
})
