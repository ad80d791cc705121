import { describe, expect, it } from 'vitest'
import { Int64Column } from '../../../src/warehouse/sink/event-columns.ts'
import { int64Bytes, packBooleans } from '../../../src/warehouse/sink/parquet-encode.ts'
import { mulberry32 } from '../../support/prng.ts'

/*
 * The PLAIN values the sink lays out itself, against exact references: INT64 words (milliseconds
 * times 1000 as microseconds, offsets as they are) against BigInt arithmetic and writeBigInt64LE,
 * booleans against bits set one by one.
 */

/** Whole milliseconds across the range the sink can meet, both signs, and the edges of exact arithmetic. */
function integers(): number[] {
  const rnd = mulberry32(21)
  const out = [0, 1, -1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, -(2 ** 32), 1_767_225_600_123, -62_135_596_800_000, 2 ** 43, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]
  out.push(Math.floor(Number.MAX_SAFE_INTEGER / 1000), Math.floor(Number.MAX_SAFE_INTEGER / 1000) + 1, -Math.floor(Number.MAX_SAFE_INTEGER / 1000) - 1)
  for (let i = 0; i < 3000; i++) out.push(Math.floor(rnd() * 2 ** Math.floor(rnd() * 54)) * (rnd() < 0.3 ? -1 : 1))
  return out
}

/** v × scale as a 64-bit two's complement integer (wrapping, as the words do). */
function reference(values: readonly number[], scale: number): Buffer {
  const b = Buffer.alloc(values.length * 8)
  values.forEach((v, i) => b.writeBigInt64LE(BigInt.asIntN(64, BigInt(v) * BigInt(scale)), i * 8))
  return b
}

describe('PLAIN values', () => {
  it('writes INT64 values exact for every safe integer, scaled or not', () => {
    const values = integers()
    for (const scale of [1, 1000]) {
      const got = int64Bytes(Float64Array.from(values), values.length, scale)
      const want = reference(values, scale)
      const bad = values.findIndex((_, i) => !got.subarray(i * 8, i * 8 + 8).equals(want.subarray(i * 8, i * 8 + 8)))
      expect(bad === -1 ? null : [values[bad], scale]).toBeNull()
    }
  })

  it('lays out an Int64Column row by row, with its min and max, growing as rows come', () => {
    const values = integers()
    const col = new Int64Column(4, 1000)
    let capacity = 4
    values.forEach((v, row) => {
      if (row === capacity) col.grow((capacity *= 2))
      col.set(row, v)
    })
    const got = Buffer.from(col.words.buffer, 0, values.length * 8)
    expect(got.equals(reference(values, 1000))).toBe(true)
    expect([col.min, col.max]).toEqual([Math.min(...values), Math.max(...values)])
    col.reset()
    col.set(0, 5)
    expect([col.min, col.max]).toEqual([5, 5])
    expect(int64Bytes(Float64Array.of(col.min), 1, col.scale).readBigInt64LE(0)).toBe(5000n)
  })

  it('packs booleans one bit each, least significant first', () => {
    const rnd = mulberry32(22)
    for (const n of [0, 1, 7, 8, 9, 63, 64, 65, 1001]) {
      const values = Uint8Array.from({ length: n }, () => (rnd() < 0.5 ? 1 : 0))
      const want = Buffer.alloc(Math.ceil(n / 8))
      for (let i = 0; i < n; i++) if (values[i]) want[Math.floor(i / 8)] = want[Math.floor(i / 8)]! + 2 ** (i % 8)
      expect(packBooleans(values, n).toString('hex')).toBe(want.toString('hex'))
    }
    expect(packBooleans(Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 1, 1), 9).toString('hex')).toBe('8101')
  })
})
