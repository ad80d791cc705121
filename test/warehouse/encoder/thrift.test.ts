import { deserializeTCompactProtocol } from 'hyparquet/src/thrift.js'
import { describe, expect, it } from 'vitest'
import { CompactWriter, T } from '../../../src/warehouse/sink/thrift.ts'
import { mulberry32, type Rng } from '../../support/prng.ts'
import { readStruct, type Struct, type Value } from './compact-reader.ts'

/*
 * The sink's Thrift compact-protocol writer, checked byte for byte against the specification
 * (https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md) and read back by
 * two readers it shares no code with: the one in ./compact-reader.ts (exact bigints) and hyparquet's.
 */

const hex = (w: CompactWriter): string => Buffer.from(w.out.bytes()).toString('hex')
const decode = (w: CompactWriter): Struct => {
  const bytes = w.out.bytes()
  const { value, end } = readStruct(bytes)
  expect(end).toBe(bytes.length)
  return value
}

describe('the compact protocol, byte for byte', () => {
  it('writes integers as zigzag varints in field headers of one byte', () => {
    // Header byte: delta << 4 | type (I32 = 5, I64 = 6); zigzag: 0→0, -1→1, 1→2, -64→127, 64→128.
    expect(hex(new CompactWriter().begin().i32(1, 0).end())).toBe('150000')
    expect(hex(new CompactWriter().begin().i32(1, -1).end())).toBe('150100')
    expect(hex(new CompactWriter().begin().i32(1, 1).end())).toBe('150200')
    expect(hex(new CompactWriter().begin().i32(1, 63).end())).toBe('157e00')
    expect(hex(new CompactWriter().begin().i32(1, -64).end())).toBe('157f00')
    expect(hex(new CompactWriter().begin().i32(1, 64).end())).toBe('15800100')
    expect(hex(new CompactWriter().begin().i32(1, -65).end())).toBe('15810100')
    expect(
      hex(
        new CompactWriter()
          .begin()
          .i32(1, 2 ** 31 - 1)
          .end(),
      ),
    ).toBe('15feffffff0f00')
    expect(
      hex(
        new CompactWriter()
          .begin()
          .i32(1, -(2 ** 31))
          .end(),
      ),
    ).toBe('15ffffffff0f00')
    expect(
      hex(
        new CompactWriter()
          .begin()
          .i64(2, 2 ** 32)
          .end(),
      ),
    ).toBe('26808080802000')
    // I16 = 4 (RowGroup.ordinal): the same zigzag varint under its own type.
    expect(hex(new CompactWriter().begin().i16(7, 3).i16(8, -2).end())).toBe('7406' + '1403' + '00')
  })

  it('writes bools in the field header, strings and lists with their lengths', () => {
    // TRUE = 1, FALSE = 2 as the header's type, no value byte.
    expect(hex(new CompactWriter().begin().bool(1, true).bool(2, false).end())).toBe('111200')
    expect(hex(new CompactWriter().begin().bool(3, false).bool(40, true).end())).toBe('32' + '0150' + '00')
    // BINARY = 8: length varint, then the UTF-8 bytes (é is two bytes).
    expect(hex(new CompactWriter().begin().string(1, 'é').end())).toBe('1802c3a900')
    expect(hex(new CompactWriter().begin().string(1, '').end())).toBe('180000')
    // LIST = 9: size << 4 | element type below 15, else 0xf0 | type and a varint size.
    expect(hex(new CompactWriter().begin().list(1, T.I32, 2).i32Element(0).i32Element(-1).end())).toBe('1925000100')
    expect(hex(new CompactWriter().begin().list(1, T.I32, 0).end())).toBe('190500')
    const fifteen = new CompactWriter().begin().list(1, T.I32, 15)
    for (let i = 0; i < 15; i++) fifteen.i32Element(0)
    expect(hex(fifteen.end())).toBe('19f50f' + '00'.repeat(15) + '00')
  })

  it('writes a field id more than 15 past the last (or before it) in the long form', () => {
    // Long form: the type alone, then the id as a zigzag varint.
    expect(hex(new CompactWriter().begin().i32(15, 0).end())).toBe('f50000')
    expect(hex(new CompactWriter().begin().i32(16, 0).end())).toBe('05200000')
    expect(hex(new CompactWriter().begin().i32(5, 0).i32(3, 0).end())).toBe('5500' + '050600' + '00')
    // The id the long form wrote is the base of the next delta.
    expect(hex(new CompactWriter().begin().i32(100, 0).i32(101, 0).end())).toBe('05c8010015' + '0000')
  })

  it("restores the outer struct's last field id after a nested struct", () => {
    // Outer field 3 (STRUCT = 12) holding field 20 (long form), then outer field 4: delta 1 from 3.
    expect(hex(new CompactWriter().begin().struct(3).i32(20, 1).end().i32(4, 1).end())).toBe('3c' + '052802' + '00' + '1502' + '00')
  })
})

describe('the compact protocol, read back', () => {
  it('keeps every integer exact, from zero to the 2^53 boundary', () => {
    const i32s = [0, 1, -1, 63, -63, 64, -64, 127, -128, 8191, 8192, -8193, 2 ** 31 - 1, -(2 ** 31)]
    // i64: counts, sizes and offsets. Exact up to MAX_SAFE_INTEGER; negative ones down to -2^52 (their
    // zigzag form, -2v - 1, must stay a safe integer, and Parquet's metadata has none so low).
    const i64s = [...i32s, 2 ** 31, 2 ** 32, -(2 ** 32), 2 ** 35 + 7, 2 ** 52, -(2 ** 52), 2 ** 53 - 2, Number.MAX_SAFE_INTEGER]
    const rnd = mulberry32(17)
    for (let i = 0; i < 300; i++) {
      i32s.push(Math.floor(rnd() * 2 ** 32) - 2 ** 31)
      const magnitude = 2 ** Math.floor(rnd() * 53)
      i64s.push(Math.floor(rnd() * magnitude) * (rnd() < 0.5 ? -1 : 1))
    }
    const w = new CompactWriter().begin()
    i32s.forEach((v, i) => w.i32(i + 1, v))
    const x = new CompactWriter().begin()
    i64s.forEach((v, i) => x.i64(i + 1, v))
    const a = decode(w.end())
    const b = decode(x.end())
    expect([...a.values()].map((f) => f.value)).toEqual(i32s.map((v) => ({ wire: 'i32', v: BigInt(v) })))
    expect([...b.values()].map((f) => f.value)).toEqual(i64s.map((v) => ({ wire: 'i64', v: BigInt(v) })))
  })

  it('writes field headers short exactly when the id is 1–15 past the last', () => {
    const ids = [1, 2, 17, 32, 33, 48, 47, 1000, 1001, 32767, 5]
    const w = new CompactWriter().begin()
    for (const id of ids) w.i32(id, id)
    const s = decode(w.end())
    expect([...s.keys()]).toEqual(ids)
    const short = ids.map((id, i) => {
      const delta = id - (ids[i - 1] ?? 0)
      return delta >= 1 && delta <= 15
    })
    expect([...s.values()].map((f) => f.short)).toEqual(short)
    expect([...s.values()].map((f) => f.value)).toEqual(ids.map((id) => ({ wire: 'i32', v: BigInt(id) })))
  })

  it('writes binary values of any length, and strings as their UTF-8 bytes', () => {
    const rnd = mulberry32(5)
    const lengths = [0, 1, 127, 128, 16_383, 16_384, 70_000]
    const w = new CompactWriter().begin()
    const blobs = lengths.map((n) => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256))))
    blobs.forEach((b, i) => w.binary(i + 1, b))
    const strings = ['', 'a', 'héllo', '日本語', '🎰🎲 spin', 'x'.repeat(300), '\u0000nul']
    strings.forEach((s, i) => w.string(20 + i, s))
    const s = decode(w.end())
    blobs.forEach((b, i) => {
      const v = s.get(i + 1)?.value
      expect(v?.wire).toBe('binary')
      if (v?.wire === 'binary') expect(Buffer.from(v.v).equals(b), `blob of ${b.length}`).toBe(true)
    })
    strings.forEach((str, i) => {
      const v = s.get(20 + i)?.value
      expect(v?.wire).toBe('binary')
      if (v?.wire === 'binary') expect(Buffer.from(v.v).toString('utf8')).toBe(str)
    })
  })

  it('writes lists of every size with the short or the long size header', () => {
    for (const size of [0, 1, 14, 15, 16, 127, 128, 1000]) {
      const w = new CompactWriter().begin()
      const ints = Array.from({ length: size }, (_, i) => (i % 2 ? -i : i * 1000))
      w.list(1, T.I32, size)
      for (const v of ints) w.i32Element(v)
      const strs = Array.from({ length: size }, (_, i) => `s${i}🎯`)
      w.list(2, T.BINARY, size)
      for (const v of strs) w.stringElement(v)
      // Structs as elements: each starts its own field ids from 0.
      w.list(3, T.STRUCT, size)
      for (let i = 0; i < size; i++) w.begin().i32(1, i).string(2, `e${i}`).end()
      w.i32(4, 44)
      const s = decode(w.end())
      const l1 = s.get(1)?.value
      const l2 = s.get(2)?.value
      const l3 = s.get(3)?.value
      expect(l1).toEqual({ wire: 'list', elem: T.I32, shortSize: size < 15, v: ints.map((v) => ({ wire: 'i32', v: BigInt(v) })) })
      expect(l2?.wire === 'list' && l2.v.map((e) => (e.wire === 'binary' ? Buffer.from(e.v).toString('utf8') : null))).toEqual(strs)
      expect(l3?.wire === 'list' && l3.shortSize).toBe(size < 15)
      if (l3?.wire !== 'list') throw new Error('no list')
      expect(l3.v).toHaveLength(size)
      l3.v.forEach((e, i) => {
        expect(e.wire).toBe('struct')
        if (e.wire === 'struct') {
          expect(e.v.get(1)).toEqual({ value: { wire: 'i32', v: BigInt(i) }, short: true })
          expect(e.v.get(2)?.short).toBe(true)
        }
      })
      // After the list the outer struct's ids go on from the list's field.
      expect(s.get(4)).toEqual({ value: { wire: 'i32', v: 44n }, short: true })
    }
  })

  it('round-trips random nested structs, as read by both readers', () => {
    const rnd = mulberry32(2026)
    for (let round = 0; round < 200; round++) {
      const tree = randomStruct(rnd, 0)
      const w = new CompactWriter().begin()
      writeStruct(w, tree)
      w.end()
      expect(toPlain(decode(w))).toEqual(plainOf(tree))
      // hyparquet's reader: field_<id> keys, i64 as bigint, lists and structs nested the same way.
      const bytes = w.out.bytes()
      const reader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 }
      expect(hyparquetPlain(deserializeTCompactProtocol(reader))).toEqual(plainOf(tree))
      expect(reader.offset).toBe(bytes.length)
    }
  })
})

/** A random struct to write: fields in a random order of ids (some far apart, some descending). */
type Node =
  | { kind: 'i32'; v: number }
  | { kind: 'i64'; v: number }
  | { kind: 'bool'; v: boolean }
  | { kind: 'string'; v: string }
  | { kind: 'ints'; v: number[] }
  | { kind: 'strings'; v: string[] }
  | { kind: 'structs'; v: Array<Map<number, Node>> }
  | { kind: 'struct'; v: Map<number, Node> }

function randomStruct(rnd: Rng, depth: number): Map<number, Node> {
  const fields = new Map<number, Node>()
  const n = Math.floor(rnd() * 8)
  let id = 0
  for (let i = 0; i < n; i++) {
    const r = rnd()
    id = r < 0.6 ? id + 1 + Math.floor(rnd() * 15) : r < 0.85 ? id + 16 + Math.floor(rnd() * 300) : 1 + Math.floor(rnd() * 20)
    if (fields.has(id)) continue
    fields.set(id, randomNode(rnd, depth))
  }
  return fields
}

function randomNode(rnd: Rng, depth: number): Node {
  const kinds = depth < 3 ? 8 : 6
  const k = Math.floor(rnd() * kinds)
  const int = (bits: number) => Math.floor(rnd() * 2 ** bits) - 2 ** (bits - 1)
  const str = () => Array.from({ length: Math.floor(rnd() * 20) }, () => String.fromCodePoint([0x61, 0xe9, 0x65e5, 0x1f3b0][Math.floor(rnd() * 4)]!)).join('')
  const size = () => (rnd() < 0.7 ? Math.floor(rnd() * 15) : 15 + Math.floor(rnd() * 40))
  switch (k) {
    case 0:
      return { kind: 'i32', v: int(32) }
    case 1:
      return { kind: 'i64', v: int(1 + Math.floor(rnd() * 53)) }
    case 2:
      return { kind: 'bool', v: rnd() < 0.5 }
    case 3:
      return { kind: 'string', v: str() }
    case 4:
      return { kind: 'ints', v: Array.from({ length: size() }, () => int(32)) }
    case 5:
      return { kind: 'strings', v: Array.from({ length: size() }, str) }
    case 6:
      return { kind: 'structs', v: Array.from({ length: Math.floor(rnd() * 4) }, () => randomStruct(rnd, depth + 1)) }
    default:
      return { kind: 'struct', v: randomStruct(rnd, depth + 1) }
  }
}

function writeStruct(w: CompactWriter, fields: Map<number, Node>): void {
  for (const [id, n] of fields) {
    if (n.kind === 'i32') w.i32(id, n.v)
    else if (n.kind === 'i64') w.i64(id, n.v)
    else if (n.kind === 'bool') w.bool(id, n.v)
    else if (n.kind === 'string') w.string(id, n.v)
    else if (n.kind === 'ints') {
      w.list(id, T.I32, n.v.length)
      for (const v of n.v) w.i32Element(v)
    } else if (n.kind === 'strings') {
      w.list(id, T.BINARY, n.v.length)
      for (const v of n.v) w.stringElement(v)
    } else if (n.kind === 'structs') {
      w.list(id, T.STRUCT, n.v.length)
      for (const s of n.v) {
        w.begin()
        writeStruct(w, s)
        w.end()
      }
    } else {
      w.struct(id)
      writeStruct(w, n.v)
      w.end()
    }
  }
}

/** What a struct should read back as: ids to bigints, booleans, strings, arrays and nested objects. */
type Plain = bigint | boolean | string | Plain[] | { [id: string]: Plain }

function plainOf(fields: Map<number, Node>): { [id: string]: Plain } {
  const out: { [id: string]: Plain } = {}
  for (const [id, n] of fields) {
    out[id] = n.kind === 'i32' || n.kind === 'i64' ? BigInt(n.v) : n.kind === 'ints' ? n.v.map(BigInt) : n.kind === 'structs' ? n.v.map(plainOf) : n.kind === 'struct' ? plainOf(n.v) : n.v
  }
  return out
}

function toPlain(s: Struct): { [id: string]: Plain } {
  const out: { [id: string]: Plain } = {}
  for (const [id, f] of s) out[id] = valuePlain(f.value)
  return out
}

function valuePlain(v: Value): Plain {
  if (v.wire === 'binary') return Buffer.from(v.v).toString('utf8')
  if (v.wire === 'list') return v.v.map(valuePlain)
  if (v.wire === 'struct') return toPlain(v.v)
  if (v.wire === 'double') return String(v.v)
  return v.v
}

/** hyparquet's decoded struct in the same shape (its i32s are numbers, its binaries bytes). */
function hyparquetPlain(x: unknown): Plain {
  if (x instanceof Uint8Array) return Buffer.from(x).toString('utf8')
  if (typeof x === 'number') return BigInt(x)
  if (typeof x === 'bigint' || typeof x === 'boolean') return x
  if (Array.isArray(x)) return x.map(hyparquetPlain)
  if (typeof x === 'object' && x !== null) {
    const out: { [id: string]: Plain } = {}
    for (const [k, v] of Object.entries(x)) out[k.replace(/^field_/, '')] = hyparquetPlain(v)
    return out
  }
  throw new Error(`unexpected ${typeof x}`)
}
