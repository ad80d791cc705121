import { snappyUncompress } from 'hyparquet'
import { describe, expect, it } from 'vitest'
import { snappyCompress, snappyMaxLength, type ValuesHint } from '../../../src/warehouse/sink/snappy.ts'
import { mulberry32, type Rng } from '../../support/prng.ts'
import { snappyDecode, type SnappyElements } from './snappy-reader.ts'
import { plainStrings } from '../plain-strings.ts'

/*
 * The sink's Snappy compressor on generated inputs, each compressed into exactly the room
 * snappyMaxLength promises (no slack that would hide an overflow) and decompressed by two readers
 * it shares no code with: the strict one in ./snappy-reader.ts and hyparquet's.
 */

const AT = 3

function compress(pieces: readonly Uint8Array[], hint?: ValuesHint): { body: Uint8Array; elements: SnappyElements } {
  const input = Buffer.concat(pieces)
  const room = snappyMaxLength(input.length, pieces.length)
  const out = new Uint8Array(AT + room)
  const end = snappyCompress(pieces, out, AT, hint)
  expect(end - AT, `${input.length} bytes in ${pieces.length} pieces: within the promised room`).toBeLessThanOrEqual(room)
  const body = out.subarray(AT, end)
  const { out: back, elements } = snappyDecode(body)
  expect(Buffer.from(back).equals(input), `${input.length} bytes in ${pieces.length} pieces: the strict reader`).toBe(true)
  const other = new Uint8Array(input.length)
  snappyUncompress(body, other)
  expect(Buffer.from(other).equals(input), `${input.length} bytes: hyparquet`).toBe(true)
  return { body, elements }
}

const random = (rnd: Rng, n: number): Buffer => {
  const b = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256)
  return b
}

/** Runs of one byte, repeats of earlier stretches (near and far) and random stretches, mixed. */
function mixed(rnd: Rng, n: number): Buffer {
  const b = Buffer.alloc(n)
  let p = 0
  while (p < n) {
    const kind = rnd()
    const len = Math.min(n - p, 1 + Math.floor(rnd() ** 3 * 5000))
    if (kind < 0.3) b.fill(Math.floor(rnd() * 256), p, p + len)
    else if (kind < 0.7 && p > 0) {
      const from = Math.floor(rnd() * p)
      for (let i = 0; i < len; i++) b[p + i] = b[from + (i % (p - from))]!
    } else random(rnd, len).copy(b, p)
    p += len
  }
  return b
}

const plain = plainStrings

describe('snappy', () => {
  it('round-trips short inputs of every length up to 70 bytes, random and repeated', () => {
    const rnd = mulberry32(1)
    expect(Buffer.from(compress([]).body).toString('hex')).toBe('00')
    expect(Buffer.from(compress([Buffer.alloc(0)]).body).toString('hex')).toBe('00')
    // One byte: the length, then a literal of one (tag 0 << 2) and the byte.
    expect(Buffer.from(compress([Buffer.from([0xab])]).body).toString('hex')).toBe('0100ab')
    for (let n = 1; n <= 70; n++) {
      compress([random(rnd, n)])
      compress([Buffer.alloc(n, n)])
      compress([Buffer.from('abcd'.repeat(n)).subarray(0, n)])
    }
  })

  it('compresses runs to copies of every length form, and long copies in pieces of 64', () => {
    for (const n of [16, 17, 19, 20, 27, 28, 64, 65, 67, 68, 69, 71, 72, 132, 1000, 65_535, 65_536, 65_537, 300_000]) {
      const { body, elements } = compress([Buffer.alloc(n, 7)])
      if (n >= 20) expect(elements.copies).toBeGreaterThan(0)
      if (n >= 1000) expect(body.length).toBeLessThan(n / 15)
    }
    // Short repeats close by (copy-1: 4–11 bytes, offset below 2048), then a long run (copy-2).
    const rnd = mulberry32(2)
    const words = ['spin', 'login', 'purchase', 'level', 'tenant', 'gems']
    const tokens = Buffer.from(Array.from({ length: 500 }, () => `${words[Math.floor(rnd() * words.length)]}${String.fromCharCode(65 + Math.floor(rnd() * 26))}`).join(''))
    const { elements } = compress([Buffer.concat([random(rnd, 5000), tokens, Buffer.alloc(3000, 1)])])
    expect([...elements.copyForms].sort()).toEqual([1, 2])
  })

  it('round-trips random bytes (no matches) at and across the 64 KiB block boundary, with literal tags of every size', () => {
    const rnd = mulberry32(3)
    for (const n of [59, 60, 61, 62, 255, 256, 257, 1000, 65_535, 65_536, 65_537, 200_003]) compress([random(rnd, n)])
    // Literals of 2^16 bytes or more come only from the INT64 path (the byte path literals stay within a block):
    // random values share no high bytes, so the piece is one literal.
    const long = compress([random(rnd, 70_000)], { from: 0, kind: 'int64' })
    expect(long.elements.longestLiteral).toBe(70_000)
    expect(long.elements.literalForms).toEqual(new Set([3]))
    const huge = compress([random(rnd, 2 ** 24 + 8)], { from: 0, kind: 'int64' })
    expect(huge.elements.literalForms).toEqual(new Set([4]))
    const forms = new Set<number>()
    for (const n of [1, 61, 257]) for (const f of compress([random(rnd, n)]).elements.literalForms) forms.add(f)
    expect(forms).toEqual(new Set([0, 1, 2]))
  })

  it('copies from almost 64 KiB back', () => {
    const rnd = mulberry32(4)
    // A block of exactly 64 KiB: a random head, a repeated pattern, the head again at the very end.
    const head = random(rnd, 100)
    const block = Buffer.concat([head, Buffer.from('0123456'.repeat(10_000)).subarray(0, 65_536 - 200), head])
    const { elements } = compress([block, random(rnd, 1000)])
    expect(elements.maxOffset).toBeGreaterThan(65_400)
    expect(elements.maxOffset).toBeLessThan(65_536)
  })

  it('round-trips mixed generated inputs, whole and split into pieces of any size (tiny ones too)', () => {
    const rnd = mulberry32(5)
    for (let round = 0; round < 40; round++) {
      const n = Math.floor(rnd() ** 2 * 250_000)
      const input = mixed(rnd, n)
      compress([input])
      // Random cuts, with empty pieces among them.
      const cuts = Array.from({ length: Math.floor(rnd() * 12) }, () => Math.floor(rnd() * (n + 1))).sort((a, b) => a - b)
      const pieces = [0, ...cuts, n].slice(1).map((end, i, ends) => input.subarray(i === 0 ? 0 : ends[i - 1]!, end))
      compress([input.subarray(0, cuts[0] ?? n), ...pieces])
    }
    // Many tiny pieces: each is compressed on its own (matches never reach across pieces), so each costs a tag.
    for (const size of [1, 4, 5, 8, 60, 61]) {
      const input = mixed(rnd, 20_000)
      const pieces: Buffer[] = []
      for (let p = 0; p < input.length; p += size) pieces.push(input.subarray(p, p + size))
      compress(pieces)
    }
  })

  it('compresses each piece on its own: the stream of several is the streams of each, after one length', () => {
    const rnd = mulberry32(6)
    const pieces = [mixed(rnd, 30_000), random(rnd, 70), Buffer.alloc(0), mixed(rnd, 80_000)]
    const whole = compress(pieces).body
    const bodies = pieces.map((p) => {
      const b = compress([p]).body
      // Without its own length (a varint: 1 byte below 128, 3 bytes here).
      return b.subarray(p.length < 128 ? 1 : p.length < 16_384 ? 2 : 3)
    })
    const total = pieces.reduce((s, p) => s + p.length, 0)
    expect(total).toBeGreaterThan(16_384)
    expect(Buffer.from(whole).equals(Buffer.concat([whole.subarray(0, 3), ...bodies]))).toBe(true)
  })

  it('round-trips what the hints describe, and what they get wrong', () => {
    const rnd = mulberry32(7)
    // Strings across block boundaries: random ids (matches only at value starts), JSON (matches inside), empty ones.
    const ids = plain(Array.from({ length: 8_000 }, (_, i) => (i % 50 === 0 ? '' : `${(1_700_000_000 + i).toString(16)}-${random(rnd, 10).toString('hex')}`)))
    const json = plain(Array.from({ length: 4_000 }, (_, i) => JSON.stringify({ amount: i % 97, item: ['sword', 'gems', 'é🎁'][i % 3], at: i })))
    const long = plain(Array.from({ length: 5 }, () => random(rnd, 30_000).toString('latin1')))
    for (const values of [ids, json, long, Buffer.concat([ids, Buffer.from('cut')])]) {
      compress([Buffer.alloc(6), values], { from: 1, kind: 'byteArrays' })
      compress([values], { from: 0, kind: 'byteArrays' })
    }
    // INT64 values: growing times, runs, falling, random, and lengths that are not a multiple of 8.
    const int64 = (n: number, f: (i: number) => bigint) => Buffer.from(new BigInt64Array(Array.from({ length: n }, (_, i) => f(i))).buffer)
    const times = int64(20_000, (i) => 1_793_491_200_000_000n + BigInt(i * 8_000 + Math.floor(rnd() * 3_000)))
    for (const values of [times, int64(20_000, (i) => BigInt(Math.floor(i / 100))), int64(20_000, (i) => BigInt(-i * 1_000_003)), int64(3, () => 5n), times.subarray(0, 8 * 999 + 5)]) {
      compress([Buffer.alloc(6), values], { from: 1, kind: 'int64' })
    }
    expect(compress([times], { from: 0, kind: 'int64' }).body.length).toBeLessThan(times.length * 0.7)
    // Wrong hints: lengths that are not lengths, bytes that are not integers.
    for (const kind of ['byteArrays', 'int64'] as const) for (const input of [random(rnd, 100_000), mixed(rnd, 100_000), json]) compress([input], { from: 0, kind })
  })
})
