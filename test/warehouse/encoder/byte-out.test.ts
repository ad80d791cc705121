import { describe, expect, it } from 'vitest'
import { ByteOut, viewOf } from '../../../src/warehouse/sink/byte-out.ts'
import { mulberry32, type Rng } from '../../support/prng.ts'

/*
 * ByteOut, the buffer every page and footer is written into, against Node's own encoders: copies
 * (by hand, by words, natively) against Buffer slices, lengths against writeUInt32LE, numbers and
 * JSON strings against JSON.stringify.
 */

const random = (rnd: Rng, n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)))

describe('ByteOut', () => {
  it('copies bytes of every length, from any offset, with or without a DataView, growing from one byte', () => {
    const rnd = mulberry32(11)
    const src = random(rnd, 5000)
    const view = viewOf(src)
    for (const withView of [false, true]) {
      const out = new ByteOut(1)
      const want: Buffer[] = []
      // Lengths around the hand/native switch (96) and the word loop's remainders, from odd offsets.
      for (const n of [0, 1, 2, 3, 4, 5, 7, 8, 95, 96, 97, 100, 1000, 4000]) {
        const start = Math.floor(rnd() * (src.length - n))
        out.raw(src, start, start + n, withView ? view : undefined)
        want.push(src.subarray(start, start + n))
        out.byteArray(src, start, start + n, withView ? view : undefined)
        const len = Buffer.alloc(4)
        len.writeUInt32LE(n)
        want.push(len, src.subarray(start, start + n))
      }
      expect(Buffer.from(out.bytes()).equals(Buffer.concat(want))).toBe(true)
    }
  })

  it('writes bytes, ASCII, little-endian lengths and lengths filled in later', () => {
    const out = new ByteOut(2)
    out.byte(0xff)
    out.ascii('PAR1')
    const at = out.pos
    out.u32(0)
    out.u32(0xdeadbeef)
    out.u32(2 ** 32 - 1)
    out.u32At(at, 123_456_789)
    const want = Buffer.alloc(17)
    want[0] = 0xff
    want.write('PAR1', 1, 'latin1')
    want.writeUInt32LE(123_456_789, 5)
    want.writeUInt32LE(0xdeadbeef, 9)
    want.writeUInt32LE(2 ** 32 - 1, 13)
    expect(Buffer.from(out.bytes()).toString('hex')).toBe(want.toString('hex'))
    out.reset()
    expect(out.bytes().length).toBe(0)
    out.ascii('x')
    expect(Buffer.from(out.bytes()).toString()).toBe('x')
  })

  it('writes numbers as JSON.stringify does', () => {
    const rnd = mulberry32(12)
    const values = [
      0,
      -0,
      1,
      -1,
      9,
      10,
      99,
      100,
      999_999_999,
      1e9,
      1e9 + 1,
      -1e9,
      1_767_225_600_123,
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
      2 ** 53,
      1e21,
      1e-7,
      0.1,
      -2.5,
      5e-324,
      Number.MAX_VALUE,
      -Number.MIN_VALUE,
    ]
    for (let i = 0; i < 2000; i++) {
      const digits = Math.floor(rnd() * 17)
      const v = Math.floor(rnd() * 10 ** digits) * (rnd() < 0.3 ? -1 : 1)
      values.push(v, v / 1000, v * 1e10)
    }
    const out = new ByteOut(1)
    for (const v of values) {
      out.number(v)
      out.byte(0x2c)
    }
    expect(Buffer.from(out.bytes()).toString()).toBe(values.map((v) => JSON.stringify(v) + ',').join(''))
  })

  it('writes UTF-8 text as JSON.stringify writes it as a string literal', () => {
    const rnd = mulberry32(13)
    const controls = Array.from({ length: 32 }, (_, c) => String.fromCharCode(c)).join('')
    const strings = ['', 'plain', controls, '"quoted" \\ back\\slash /', '\u007f\u0080é日本🎰👩‍👩‍👧', '\u2028\u2029', 'x'.repeat(200)]
    const alphabet = [...controls, '"', '\\', 'a', 'é', '日', '🎯', '/', '\u007f']
    for (let i = 0; i < 500; i++) strings.push(Array.from({ length: Math.floor(rnd() * 30) }, () => alphabet[Math.floor(rnd() * alphabet.length)]!).join(''))
    const out = new ByteOut(1)
    for (const s of strings) {
      // From inside a larger buffer, as the sink reads values out of encoded events.
      const b = Buffer.concat([Buffer.from('<<'), Buffer.from(s, 'utf8'), Buffer.from('>>')])
      out.jsonString(b, 2, b.length - 2)
      out.byte(0x0a)
    }
    expect(Buffer.from(out.bytes()).toString('utf8')).toBe(strings.map((s) => JSON.stringify(s) + '\n').join(''))
  })
})
