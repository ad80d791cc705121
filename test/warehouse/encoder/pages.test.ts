import { describe, expect, it } from 'vitest'
import { SNAPPY, UNCOMPRESSED, encodeParquet, type ColumnChunk, type ColumnSpec } from '../../../src/warehouse/sink/parquet-encode.ts'
import { mulberry32 } from '../../support/prng.ts'
import { int, list, readStruct, structs, sub } from './compact-reader.ts'
import { snappyDecode } from './snappy-reader.ts'

/*
 * The page bodies themselves, decoded here from the format's description
 * (https://github.com/apache/parquet-format/blob/master/Encodings.md): definition levels in the
 * RLE/bit-packed hybrid after their 4-byte length, PLAIN values, and a one-entry dictionary with one
 * RLE run of index 0. A SNAPPY page must decompress to the very bytes of the same page uncompressed.
 */

/** The RLE/bit-packed hybrid at `b`, `n` values of `bitWidth` bits (1 here); also how many runs of each kind it used. */
function hybrid(b: Uint8Array, n: number, bitWidth: number): { values: number[]; rle: number; packed: number; end: number } {
  const values: number[] = []
  let pos = 0
  let rle = 0
  let packed = 0
  const varint = () => {
    let v = 0
    for (let shift = 0; ; shift += 7) {
      const c = b[pos++]!
      v += (c & 0x7f) * 2 ** shift
      if (c < 0x80) return v
    }
  }
  const bytesPerValue = Math.ceil(bitWidth / 8)
  while (values.length < n) {
    const header = varint()
    if (header & 1) {
      // Bit-packed: (header >> 1) groups of 8 values, least significant bit first.
      packed++
      const count = (header >>> 1) * 8
      for (let i = 0; i < count; i++) {
        let v = 0
        for (let k = 0; k < bitWidth; k++) {
          const bit = i * bitWidth + k
          v |= ((b[pos + (bit >> 3)]! >> (bit & 7)) & 1) << k
        }
        values.push(v)
      }
      pos += (header >>> 1) * bitWidth
    } else {
      rle++
      let v = 0
      for (let k = 0; k < bytesPerValue; k++) v |= b[pos++]! << (8 * k)
      for (let i = 0; i < header >>> 1; i++) values.push(v)
    }
  }
  // A bit-packed run pads to a multiple of 8; the padding must be zeros.
  expect(values.slice(n).every((v) => v === 0)).toBe(true)
  return { values: values.slice(0, n), rle, packed, end: pos }
}

const str = (s: string): Buffer => {
  const b = Buffer.from(s, 'utf8')
  const len = Buffer.alloc(4)
  len.writeUInt32LE(b.length)
  return Buffer.concat([len, b])
}

const ROWS = 203
const rnd = mulberry32(31)
const someDefined = Uint8Array.from({ length: ROWS }, () => (rnd() < 0.7 ? 1 : 0))
const count = someDefined.reduce((s, d) => s + d, 0)
const columns: ColumnSpec[] = [
  { name: 'names', type: 'VARCHAR' },
  { name: 'constant', type: 'VARCHAR' },
  { name: 'none', type: 'VARCHAR' },
  { name: 'full', type: 'DOUBLE' },
  { name: 'flags', type: 'BOOLEAN' },
]
const names = Buffer.concat(Array.from({ length: count }, (_, i) => str(`n${i}é`)))
const doubles = Buffer.from(Float64Array.from({ length: ROWS }, (_, i) => i * 0.5 - 7).buffer)
const flags = Buffer.from([0b10110010, 0b1])
const chunks: ColumnChunk[] = [
  { values: [names], defined: someDefined, nulls: ROWS - count },
  { values: [Buffer.concat(Array.from({ length: count }, () => str('spin')))], defined: someDefined, nulls: ROWS - count },
  { values: [], defined: new Uint8Array(ROWS), nulls: ROWS },
  { values: [doubles], defined: null, nulls: 0 },
  { values: [flags], defined: Uint8Array.from({ length: ROWS }, (_, i) => (i < 9 ? 1 : 0)), nulls: ROWS - 9 },
]

interface Page {
  type: bigint
  body: Uint8Array
  values: bigint
  encoding: bigint
}

/** Every page of every column chunk, bodies decompressed with the strict reader when SNAPPY. */
function pages(file: Buffer): Page[][] {
  const footerLength = file.readUInt32LE(file.length - 8)
  const meta = readStruct(file.subarray(file.length - 8 - footerLength, file.length - 8)).value
  const out: Page[][] = []
  for (const g of structs(list(meta, 4))) {
    for (const chunk of structs(list(g, 1))) {
      const m = sub(chunk, 3)
      let at = Number(m.has(11) ? int(m, 11) : int(m, 9))
      const end = at + Number(int(m, 7))
      const ps: Page[] = []
      while (at < end) {
        const { value: h, end: headerLength } = readStruct(file.subarray(at))
        const stored = file.subarray(at + headerLength, at + headerLength + Number(int(h, 3)))
        const body = int(m, 4) === 1n ? snappyDecode(stored).out : stored
        expect(body.length).toBe(Number(int(h, 2)))
        const detail = int(h, 1) === 2n ? sub(h, 7) : sub(h, 5)
        ps.push({ type: int(h, 1), body, values: int(detail, 1), encoding: int(detail, 2) })
        at += headerLength + stored.length
      }
      expect(at).toBe(end)
      out.push(ps)
    }
  }
  return out
}

describe('page bodies', () => {
  it('hold definition levels, PLAIN values and one-entry dictionaries as the format describes them, compressed or not', () => {
    const plainFile = Buffer.concat(encodeParquet(columns, [{ rows: ROWS, columns: chunks }], { codec: UNCOMPRESSED }))
    const snappyFile = Buffer.concat(encodeParquet(columns, [{ rows: ROWS, columns: chunks }], { codec: SNAPPY }))
    const plain = pages(plainFile)
    const compressed = pages(snappyFile)
    expect(compressed.map((ps) => ps.map((p) => Buffer.from(p.body).toString('hex')))).toEqual(plain.map((ps) => ps.map((p) => Buffer.from(p.body).toString('hex'))))

    const levels = (p: Page) => {
      const length = Buffer.from(p.body).readUInt32LE(0)
      const h = hybrid(p.body.subarray(4, 4 + length), ROWS, 1)
      expect(h.end).toBe(length)
      return { ...h, rest: p.body.subarray(4 + length) }
    }
    // Strings with NULLs: one bit-packed run of levels, then the present values.
    const [names0] = plain[0]!
    const l0 = levels(names0!)
    expect([names0!.type, names0!.values, names0!.encoding, l0.packed, l0.rle]).toEqual([0n, BigInt(ROWS), 0n, 1, 0])
    expect(l0.values).toEqual([...someDefined])
    expect(Buffer.from(l0.rest).equals(names)).toBe(true)
    // One value throughout: a dictionary page of that value, then indices of bit width 1, one RLE run of 0.
    const [dict, data] = plain[1]!
    expect([dict!.type, dict!.values, dict!.encoding]).toEqual([2n, 1n, 0n])
    expect(Buffer.from(dict!.body).equals(str('spin'))).toBe(true)
    const l1 = levels(data!)
    expect([data!.type, data!.encoding]).toEqual([0n, 2n])
    expect(l1.values).toEqual([...someDefined])
    expect(l1.rest[0]).toBe(1)
    const indices = hybrid(l1.rest.subarray(1), count, 1)
    expect([indices.values.every((v) => v === 0), indices.rle, indices.packed, indices.end + 1]).toEqual([true, 1, 0, l1.rest.length])
    // All NULL: one RLE run of level 0 and no values.
    const l2 = levels(plain[2]![0]!)
    expect([l2.rle, l2.packed, l2.values.every((v) => v === 0), l2.rest.length]).toEqual([1, 0, true, 0])
    // No NULLs: one RLE run of level 1, then every value.
    const l3 = levels(plain[3]![0]!)
    expect([l3.rle, l3.packed, l3.values.every((v) => v === 1)]).toEqual([1, 0, true])
    expect(Buffer.from(l3.rest).equals(doubles)).toBe(true)
    // Booleans: packed values after the levels, as given.
    const l4 = levels(plain[4]![0]!)
    expect(l4.values).toEqual(Array.from({ length: ROWS }, (_, i) => (i < 9 ? 1 : 0)))
    expect(Buffer.from(l4.rest).equals(flags)).toBe(true)
  })

  it('write a file without rows: no row groups, or one of none', () => {
    for (const groups of [[], [{ rows: 0, columns: columns.map(() => ({ values: [], defined: new Uint8Array(0), nulls: 0 })) }]]) {
      const file = Buffer.concat(encodeParquet(columns, groups))
      const meta = readStruct(file.subarray(file.length - 8 - file.readUInt32LE(file.length - 8), file.length - 8)).value
      expect(int(meta, 3)).toBe(0n)
      expect(list(meta, 4)).toHaveLength(groups.length)
      for (const ps of pages(file)) for (const p of ps) expect([p.values, p.body.length]).toEqual([0n, 6])
    }
  })
})
