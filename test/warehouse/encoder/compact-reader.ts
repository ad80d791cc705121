/*
 * A Thrift compact-protocol reader written from the specification
 * (https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md), independent of
 * the sink's writer and of hyparquet: integers come back as bigints (exact at any size), every value
 * keeps its wire type, and every field remembers whether its header used the short (delta) form, so
 * tests can check both what was written and how.
 */

export const WIRE = { TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 } as const

export type Value =
  | { wire: 'bool'; v: boolean }
  | { wire: 'byte' | 'i16' | 'i32' | 'i64'; v: bigint }
  | { wire: 'double'; v: number }
  | { wire: 'binary'; v: Uint8Array }
  | { wire: 'list'; elem: number; shortSize: boolean; v: Value[] }
  | { wire: 'struct'; v: Struct }

export interface Field {
  value: Value
  /** The header was one byte (a field-id delta of 1–15). */
  short: boolean
}

export type Struct = Map<number, Field>

export class CompactReader {
  pos = 0

  constructor(private readonly b: Uint8Array) {}

  get done(): boolean {
    return this.pos === this.b.length
  }

  u8(): number {
    if (this.pos >= this.b.length) throw new Error(`read past the end at ${this.pos}`)
    return this.b[this.pos++]!
  }

  /** Unsigned LEB128, at most 10 bytes (64 bits). */
  varint(): bigint {
    let v = 0n
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const c = this.u8()
      v |= BigInt(c & 0x7f) << shift
      if ((c & 0x80) === 0) return v
    }
    throw new Error('varint longer than 10 bytes')
  }

  zigzag(): bigint {
    const z = this.varint()
    return (z >> 1n) ^ -(z & 1n)
  }

  struct(): Struct {
    const fields: Struct = new Map()
    let last = 0
    for (;;) {
      const h = this.u8()
      if (h === 0) return fields
      const type = h & 0x0f
      const delta = h >> 4
      const id = delta !== 0 ? last + delta : Number(this.zigzag())
      if (fields.has(id)) throw new Error(`field ${id} twice`)
      if (type === WIRE.TRUE || type === WIRE.FALSE) fields.set(id, { value: { wire: 'bool', v: type === WIRE.TRUE }, short: delta !== 0 })
      else fields.set(id, { value: this.element(type), short: delta !== 0 })
      last = id
    }
  }

  element(type: number): Value {
    switch (type) {
      case WIRE.TRUE:
      case WIRE.FALSE: {
        // In a list a bool is a whole byte: 1 true, 2 false (0 is accepted by some readers too).
        const c = this.u8()
        if (c !== 1 && c !== 2 && c !== 0) throw new Error(`bool element ${c}`)
        return { wire: 'bool', v: c === 1 }
      }
      case WIRE.BYTE: {
        const c = this.u8()
        return { wire: 'byte', v: BigInt(c > 127 ? c - 256 : c) }
      }
      case WIRE.I16:
        return { wire: 'i16', v: this.zigzag() }
      case WIRE.I32:
        return { wire: 'i32', v: this.zigzag() }
      case WIRE.I64:
        return { wire: 'i64', v: this.zigzag() }
      case WIRE.DOUBLE: {
        const dv = new DataView(this.b.buffer, this.b.byteOffset + this.pos, 8)
        this.pos += 8
        return { wire: 'double', v: dv.getFloat64(0, true) }
      }
      case WIRE.BINARY: {
        const n = Number(this.varint())
        if (this.pos + n > this.b.length) throw new Error(`binary of ${n} bytes past the end`)
        const v = this.b.subarray(this.pos, this.pos + n)
        this.pos += n
        return { wire: 'binary', v }
      }
      case WIRE.LIST:
      case WIRE.SET: {
        const h = this.u8()
        const elem = h & 0x0f
        const shortSize = h >> 4 !== 15
        const n = shortSize ? h >> 4 : Number(this.varint())
        const v: Value[] = []
        for (let i = 0; i < n; i++) v.push(this.element(elem))
        return { wire: 'list', elem, shortSize, v }
      }
      case WIRE.STRUCT:
        return { wire: 'struct', v: this.struct() }
      default:
        throw new Error(`wire type ${type} at ${this.pos - 1}`)
    }
  }
}

/** Decodes one struct from the start of `b`; `end` is where it stopped. */
export function readStruct(b: Uint8Array): { value: Struct; end: number } {
  const r = new CompactReader(b)
  const value = r.struct()
  return { value, end: r.pos }
}

/** Field `id` of a struct, which must be there. */
export function field(s: Struct, id: number): Value {
  const f = s.get(id)
  if (!f) throw new Error(`no field ${id} (has ${[...s.keys()].join(', ')})`)
  return f.value
}

export function int(s: Struct, id: number): bigint {
  const v = field(s, id)
  if (v.wire !== 'i16' && v.wire !== 'i32' && v.wire !== 'i64' && v.wire !== 'byte') throw new Error(`field ${id} is ${v.wire}, not an integer`)
  return v.v
}

export function sub(s: Struct, id: number): Struct {
  const v = field(s, id)
  if (v.wire !== 'struct') throw new Error(`field ${id} is ${v.wire}, not a struct`)
  return v.v
}

export function list(s: Struct, id: number): Value[] {
  const v = field(s, id)
  if (v.wire !== 'list') throw new Error(`field ${id} is ${v.wire}, not a list`)
  return v.v
}

export function bytes(s: Struct, id: number): Uint8Array {
  const v = field(s, id)
  if (v.wire !== 'binary') throw new Error(`field ${id} is ${v.wire}, not binary`)
  return v.v
}

export function text(s: Struct, id: number): string {
  return Buffer.from(bytes(s, id)).toString('utf8')
}

export function structs(values: readonly Value[]): Struct[] {
  return values.map((v) => {
    if (v.wire !== 'struct') throw new Error(`list element is ${v.wire}, not a struct`)
    return v.v
  })
}
