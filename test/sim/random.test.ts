import { describe, expect, it } from 'vitest'
import { AsciiChunks } from '../../src/sim/ascii-chunks.ts'
import { argsortU32 } from '../../src/sim/radix-sort.ts'
import { Rng } from '../../src/sim/random.ts'

const draw = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.u32())

describe('Rng', () => {
  it('repeats its sequence for a seed and stream, and differs across seeds and streams', () => {
    expect(draw(new Rng(42), 100)).toEqual(draw(new Rng(42), 100))
    expect(draw(new Rng(42), 100)).not.toEqual(draw(new Rng(43), 100))
    expect(draw(new Rng(42, 0), 100)).not.toEqual(draw(new Rng(42, 1), 100))
  })

  it('keeps floats in [0, 1) and integers within inclusive bounds, hitting both ends', () => {
    const rng = new Rng(7)
    const seen = new Set<number>()
    let sum = 0
    let min = 1
    let max = 0
    for (let i = 0; i < 100_000; i++) {
      const f = rng.float()
      sum += f
      min = Math.min(min, f)
      max = Math.max(max, f)
      seen.add(rng.int(1, 6))
    }
    expect(min).toBeGreaterThanOrEqual(0)
    expect(max).toBeLessThan(1)
    expect([...seen].sort()).toEqual([1, 2, 3, 4, 5, 6])
    expect(Math.abs(sum / 100_000 - 0.5)).toBeLessThan(0.01)
  })
})

describe('argsortU32', () => {
  it('sorts like a stable comparator sort, across both 16-bit digits', () => {
    const rng = new Rng(1)
    const keys = Uint32Array.from({ length: 50_000 }, (_, i) => (i % 3 === 0 ? rng.below(50) : rng.u32()))
    const expected = [...keys.keys()].sort((a, b) => keys[a]! - keys[b]! || a - b)
    expect([...argsortU32(keys)]).toEqual(expected)
  })

  it('handles empty input and small keys', () => {
    expect([...argsortU32(new Uint32Array(0))]).toEqual([])
    expect([...argsortU32(Uint32Array.from([2, 0, 2, 1, 0]))]).toEqual([1, 4, 3, 0, 2])
  })
})

describe('AsciiChunks', () => {
  it('writes integers exactly as String(n) does', () => {
    const values = [0, 7, 10, 99, 123456, 999_999_999, 1e9, 1_000_000_007, 1_793_534_400_000, Number.MAX_SAFE_INTEGER]
    const out = new AsciiChunks(1024)
    for (const v of values) {
      out.uint(v)
      out.byte(10)
    }
    expect(out.take().toString('latin1')).toBe(values.map((v) => `${v}\n`).join(''))
  })
})
