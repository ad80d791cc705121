import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import { parquetMetadata, parquetReadObjects } from 'hyparquet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SNAPPY, UNCOMPRESSED, encodeParquet, type ColumnChunk, type ColumnSpec, type ColumnType, type PageCodec } from '../../../src/warehouse/sink/parquet-encode.ts'
import { mulberry32, type Rng } from '../../support/prng.ts'

/*
 * Every column type the sink writes, as files from its encoder (values PLAIN-encoded here, by hand,
 * from the values themselves), read back by hyparquet and by DuckDB: values (edge values among them),
 * NULL positions, row counts per row group, statistics and the types the schema declares.
 */

type Cell = string | number | bigint | boolean | null

interface Case {
  name: string
  type: ColumnType
  values: Cell[]
  /** Give min/max statistics (the sink does for its integer columns). */
  stats?: boolean
  /** PLAIN values one piece per value instead of one piece per chunk. */
  pieceEach?: boolean
}

const tmp = mkdtempSync(join(tmpdir(), 'tagstream-encoder-columns-'))
let db: DuckDBInstance
let duck: DuckDBConnection
beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:', { threads: '1' })
  duck = await db.connect()
  await duck.run(`SET TimeZone = 'UTC'`)
})
afterAll(() => {
  duck.closeSync()
  db.closeSync()
  rmSync(tmp, { recursive: true, force: true })
})

/** One value PLAIN-encoded (booleans are packed per chunk, not here). */
function plainValue(type: ColumnType, v: string | number | bigint): Buffer {
  switch (type) {
    case 'VARCHAR': {
      const b = Buffer.from(String(v), 'utf8')
      const len = Buffer.alloc(4)
      len.writeUInt32LE(b.length)
      return Buffer.concat([len, b])
    }
    case 'DOUBLE': {
      const b = Buffer.alloc(8)
      b.writeDoubleLE(Number(v))
      return b
    }
    case 'INTEGER': {
      const b = Buffer.alloc(4)
      b.writeInt32LE(Number(v))
      return b
    }
    default: {
      const b = Buffer.alloc(8)
      b.writeBigInt64LE(BigInt(v))
      return b
    }
  }
}

function chunkOf(c: Case, values: readonly Cell[]): ColumnChunk {
  const present = values.filter((v): v is string | number | bigint | boolean => v !== null)
  const nulls = values.length - present.length
  const defined = nulls === 0 ? null : new Uint8Array(values.map((v) => (v === null ? 0 : 1)))
  let pieces: Buffer[]
  if (c.type === 'BOOLEAN') {
    const packed = Buffer.alloc(Math.ceil(present.length / 8))
    present.forEach((v, i) => {
      if (v === true) packed[i >> 3]! |= 1 << (i & 7)
    })
    pieces = [packed]
  } else {
    const each = present.map((v) => plainValue(c.type, v as string | number | bigint))
    pieces = c.pieceEach ? each : [Buffer.concat(each)]
  }
  const chunk: ColumnChunk = { values: pieces, defined, nulls }
  if (c.stats && present.length > 0) {
    const sorted = [...present].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) as Array<number | bigint>
    chunk.min = plainValue(c.type, sorted[0]!)
    chunk.max = plainValue(c.type, sorted[sorted.length - 1]!)
  }
  return chunk
}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

function string(rnd: Rng): string {
  const alphabet = ['a', 'Z', ' ', '"', '\\', '\n', '\u0000', 'é', 'ß', '日', '本', '🎰', '👩‍👩‍👧', '\u{10FFFF}']
  return Array.from({ length: Math.floor(rnd() ** 2 * 40) }, () => alphabet[Math.floor(rnd() * alphabet.length)]!).join('')
}

/** `n` values from `make`, NULL where `nullAt` says. */
function gen(n: number, make: (i: number) => Cell, nullAt: (i: number) => boolean = () => false): Cell[] {
  return Array.from({ length: n }, (_, i) => (nullAt(i) ? null : make(i)))
}

function cases(rows: number, seed: number): Case[] {
  const rnd = mulberry32(seed)
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!
  const someNull = () => rnd() < 0.2
  const doubles = [0, -0, NaN, Infinity, -Infinity, 5e-324, -Number.MAX_VALUE, 1.5, Number.MAX_SAFE_INTEGER, 0.1]
  return [
    { name: 'text', type: 'VARCHAR', values: gen(rows, (i) => (i === 1 ? 'x'.repeat(100_000) + '🎯' : i % 17 === 0 ? '' : string(rnd)), someNull) },
    { name: 'text_full', type: 'VARCHAR', values: gen(rows, (i) => `id-${i}-é`) },
    {
      name: 'text_constant',
      type: 'VARCHAR',
      values: gen(
        rows,
        () => 'spin🎰',
        (i) => i % 5 === 2,
      ),
    },
    {
      name: 'text_null',
      type: 'VARCHAR',
      values: gen(
        rows,
        () => 'never',
        () => true,
      ),
    },
    { name: 'text_empty_constant', type: 'VARCHAR', values: gen(rows, () => '') },
    { name: 'amount', type: 'DOUBLE', values: gen(rows, (i) => (i < doubles.length ? doubles[i]! : (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40)), someNull) },
    {
      name: 'amount_null',
      type: 'DOUBLE',
      values: gen(
        rows,
        () => 1,
        () => true,
      ),
    },
    {
      name: 'k',
      type: 'INTEGER',
      stats: true,
      values: gen(
        rows,
        (i) => (i === 0 ? -(2 ** 31) : i === 2 ? 2 ** 31 - 1 : Math.floor(rnd() * 2000) - 1000),
        (i) => i % 7 === 3,
      ),
    },
    { name: 'k_each', type: 'INTEGER', pieceEach: true, stats: true, values: gen(rows, (i) => (i * 7919) % 100_003) },
    { name: 'big', type: 'BIGINT', stats: true, values: gen(rows, (i) => (i === 0 ? INT64_MAX : i === 1 ? INT64_MIN : BigInt(Math.floor(rnd() * 2 ** 53)) * pick([1n, -1n, 1000n]))) },
    {
      name: 'ts',
      type: 'TIMESTAMPTZ',
      stats: true,
      values: gen(
        rows,
        (i) => (i === 0 ? -62_135_596_800_000_000n : i === 1 ? 0n : 1_767_225_600_000_000n + BigInt(i) * 1_000_003n),
        (i) => i > 2 && someNull(),
      ),
    },
    { name: 'win', type: 'BOOLEAN', values: gen(rows, () => rnd() < 0.4, someNull) },
    { name: 'win_true', type: 'BOOLEAN', values: gen(rows, () => true) },
  ]
}

/** A cell as hyparquet returns it (timestamps as microseconds). */
const asHyparquet = (type: ColumnType, v: Cell): Cell => (v === null ? null : type === 'INTEGER' || type === 'DOUBLE' ? Number(v) : v)

/** Equal, with NaN equal to itself and -0 apart from 0. */
const same = (a: unknown, b: unknown): boolean => (typeof a === 'number' && typeof b === 'number' ? Object.is(a, b) : a === b)

function expectColumn(name: string, got: readonly unknown[], want: readonly Cell[]): void {
  expect(got.length, name).toBe(want.length)
  const bad = want.findIndex((w, i) => !same(got[i], w))
  if (bad >= 0) expect([bad, got[bad]], `${name}: first difference`).toEqual([bad, want[bad]])
}

const DUCK_TYPE: Record<ColumnType, string> = {
  VARCHAR: 'VARCHAR',
  DOUBLE: 'DOUBLE',
  INTEGER: 'INTEGER',
  BIGINT: 'BIGINT',
  TIMESTAMPTZ: 'TIMESTAMP WITH TIME ZONE',
  BOOLEAN: 'BOOLEAN',
}

/** parquet_schema()'s view of each type: physical, converted and logical type, as DuckDB itself declares them. */
const DECLARED: Record<ColumnType, { type: string; converted: string | null; logical: string | null }> = {
  VARCHAR: { type: 'BYTE_ARRAY', converted: 'UTF8', logical: null },
  DOUBLE: { type: 'DOUBLE', converted: null, logical: null },
  INTEGER: { type: 'INT32', converted: 'INT_32', logical: null },
  BIGINT: { type: 'INT64', converted: 'INT_64', logical: null },
  TIMESTAMPTZ: { type: 'INT64', converted: 'TIMESTAMP_MICROS', logical: 'TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))' },
  BOOLEAN: { type: 'BOOLEAN', converted: null, logical: null },
}

async function rows(sql: string): Promise<Array<Record<string, unknown>>> {
  return (await duck.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>
}

describe('columns of every type, read back by hyparquet and DuckDB', () => {
  const layouts: Array<{ label: string; groups: number[]; codec: PageCodec; dictionaries: boolean; seed: number }> = [
    { label: 'one row', groups: [1], codec: SNAPPY, dictionaries: true, seed: 1 },
    { label: 'a few rows, uncompressed, no dictionaries', groups: [37], codec: UNCOMPRESSED, dictionaries: false, seed: 2 },
    { label: 'several row groups, pages over 64 KiB', groups: [5_000, 1, 40_000], codec: SNAPPY, dictionaries: true, seed: 3 },
  ]
  for (const layout of layouts) {
    it(`holds values, NULLs, counts, statistics and types (${layout.label})`, async () => {
      const total = layout.groups.reduce((s, n) => s + n, 0)
      const cs = cases(total, layout.seed)
      const specs: ColumnSpec[] = cs.map((c) => ({ name: c.name, type: c.type }))
      let from = 0
      const groups = layout.groups.map((n) => {
        const g = { rows: n, columns: cs.map((c) => chunkOf(c, c.values.slice(from, from + n))) }
        from += n
        return g
      })
      const bytes = Buffer.concat(encodeParquet(specs, groups, { codec: layout.codec, dictionaries: layout.dictionaries }))
      const path = join(tmp, `${layout.seed}.parquet`)
      writeFileSync(path, bytes)

      // hyparquet: every value in place, row counts and statistics per row group.
      const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)
      const parsers = { timestampFromMicroseconds: (us: bigint) => us }
      const meta = parquetMetadata(file, { parsers })
      expect(meta.num_rows).toBe(BigInt(total))
      expect(meta.row_groups.map((g) => g.num_rows)).toEqual(layout.groups.map(BigInt))
      const read = await parquetReadObjects({ file, parsers })
      for (const c of cs)
        expectColumn(
          `hyparquet ${c.name}`,
          read.map((r) => r[c.name]),
          c.values.map((v) => asHyparquet(c.type, v)),
        )
      for (const [gi, g] of meta.row_groups.entries()) {
        for (const [ci, chunk] of g.columns.entries()) {
          const c = cs[ci]!
          const slice = c.values.slice(groups.slice(0, gi).reduce((s, x) => s + x.rows, 0)).slice(0, groups[gi]!.rows)
          const stats = chunk.meta_data?.statistics
          expect(stats?.null_count, `${c.name} group ${gi}`).toBe(BigInt(slice.filter((v) => v === null).length))
          const present = slice.filter((v) => v !== null) as Array<number | bigint>
          if (c.stats && present.length > 0) {
            const lo = present.reduce((a, b) => (b < a ? b : a))
            const hi = present.reduce((a, b) => (b > a ? b : a))
            expect([stats?.min_value, stats?.max_value], `${c.name} group ${gi}`).toEqual([asHyparquet(c.type, lo), asHyparquet(c.type, hi)])
          } else expect([stats?.min_value, stats?.max_value]).toEqual([undefined, undefined])
        }
      }

      // DuckDB: the declared types, row groups, statistics, and every value in file order.
      const lit = `'${path}'`
      const described = await rows(`SELECT column_name AS name, column_type AS type FROM (DESCRIBE SELECT * FROM read_parquet(${lit}))`)
      expect(described).toEqual(cs.map((c) => ({ name: c.name, type: DUCK_TYPE[c.type] })))
      const schema = await rows(`SELECT name, type, repetition_type AS rep, converted_type AS converted, logical_type AS logical FROM parquet_schema(${lit}) WHERE num_children IS NULL`)
      expect(schema).toEqual(cs.map((c) => ({ name: c.name, rep: 'OPTIONAL', ...DECLARED[c.type] })))
      const groupRows = await rows(`SELECT DISTINCT row_group_id AS g, row_group_num_rows AS n FROM parquet_metadata(${lit}) ORDER BY g`)
      expect(groupRows).toEqual(layout.groups.map((n, g) => ({ g: BigInt(g), n: BigInt(n) })))
      const kStats = await rows(
        `SELECT row_group_id AS g, stats_min_value AS lo, stats_max_value AS hi, stats_null_count AS nulls FROM parquet_metadata(${lit}) WHERE path_in_schema = 'big' ORDER BY g`,
      )
      from = 0
      expect(kStats).toEqual(
        layout.groups.map((n, g) => {
          const slice = cs.find((c) => c.name === 'big')!.values.slice(from, (from += n)) as bigint[]
          return { g: BigInt(g), lo: String(slice.reduce((a, b) => (b < a ? b : a))), hi: String(slice.reduce((a, b) => (b > a ? b : a))), nulls: 0n }
        }),
      )
      const select = cs.map((c) => (c.type === 'TIMESTAMPTZ' ? `epoch_us(${c.name}) AS ${c.name}` : c.name)).join(', ')
      const got = await rows(`SELECT ${select} FROM read_parquet(${lit}, file_row_number = true) ORDER BY file_row_number`)
      for (const c of cs)
        expectColumn(
          `DuckDB ${c.name}`,
          got.map((r) => r[c.name]),
          c.values.map((v) => asHyparquet(c.type, v)),
        )
      // Statistics DuckDB trusts enough to skip a row group by: nothing lies beyond them.
      const [beyond] = await rows(`SELECT count(*) AS n FROM read_parquet(${lit}) WHERE big > ${INT64_MAX - 1n} OR big < ${INT64_MIN + 1n}`)
      const extremes = cs.find((c) => c.name === 'big')!.values.filter((v) => v === INT64_MAX || v === INT64_MIN).length
      expect(extremes).toBe(Math.min(total, 2))
      expect(beyond).toEqual({ n: BigInt(extremes) })
    })
  }
})

describe('values given as many small pieces', () => {
  it('compress into the room reserved for the page (one piece per value, 4 bytes each)', async () => {
    // The page's buffer is sized from the compressor's bound alone here (the file's first page): every
    // piece is compressed on its own and costs a tag, more than the bound for one input allows.
    const c: Case = { name: 'k', type: 'INTEGER', pieceEach: true, values: gen(45_000, (i) => (i * 7919) % 100_003) }
    const bytes = Buffer.concat(encodeParquet([{ name: 'k', type: 'INTEGER' }], [{ rows: 45_000, columns: [chunkOf(c, c.values)] }]))
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)
    expectColumn(
      'hyparquet k',
      (await parquetReadObjects({ file })).map((r) => r.k),
      c.values,
    )
    const path = join(tmp, 'pieces.parquet')
    writeFileSync(path, bytes)
    const [sum] = await rows(`SELECT count(*) AS n, sum(k) AS s FROM '${path}'`)
    expect(sum).toEqual({ n: 45_000n, s: BigInt((c.values as number[]).reduce((a, b) => a + b, 0)) })
  })
})
