import { ByteOut } from './byte-out.ts'

/**
 * Thrift's compact protocol, write side only, for Parquet's page headers and footer: field headers
 * as deltas from the previous field id, integers as zigzag varints, lists with their size in the
 * header. Integers are JavaScript numbers: Parquet's metadata (sizes, offsets, counts) stays far
 * below 2^53.
 */
export const T = { TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, STRUCT: 12 } as const

export class CompactWriter {
  readonly out: ByteOut
  private lastId = 0
  private readonly stack: number[] = []

  constructor(out = new ByteOut(1024)) {
    this.out = out
  }

  /** Starts a struct (a nested field's value, a list element, or the top-level struct). */
  begin(): this {
    this.stack.push(this.lastId)
    this.lastId = 0
    return this
  }

  end(): this {
    this.out.byte(0)
    this.lastId = this.stack.pop() ?? 0
    return this
  }

  /** An i16 field (RowGroup.ordinal): the same varint as i32, but readers generated from the IDL skip a field whose wire type is not the declared one. */
  i16(id: number, v: number): this {
    this.field(id, T.I16)
    this.varint(zigzag(v))
    return this
  }

  i32(id: number, v: number): this {
    this.field(id, T.I32)
    this.varint(zigzag(v))
    return this
  }

  i64(id: number, v: number): this {
    this.field(id, T.I64)
    this.varint(zigzag(v))
    return this
  }

  bool(id: number, v: boolean): this {
    return this.field(id, v ? T.TRUE : T.FALSE)
  }

  binary(id: number, bytes: Uint8Array): this {
    this.field(id, T.BINARY)
    this.varint(bytes.length)
    this.out.raw(bytes, 0, bytes.length)
    return this
  }

  string(id: number, s: string): this {
    return this.binary(id, Buffer.from(s, 'utf8'))
  }

  /** A struct-valued field: write its fields, then end(). */
  struct(id: number): this {
    this.field(id, T.STRUCT)
    return this.begin()
  }

  /** A list field's header; elements follow (begin()/end() each for structs). */
  list(id: number, elementType: number, size: number): this {
    this.field(id, T.LIST)
    if (size < 15) this.out.byte((size << 4) | elementType)
    else {
      this.out.byte(0xf0 | elementType)
      this.varint(size)
    }
    return this
  }

  /** A list element of I32 type (enums). */
  i32Element(v: number): this {
    this.varint(zigzag(v))
    return this
  }

  stringElement(s: string): this {
    const bytes = Buffer.from(s, 'utf8')
    this.varint(bytes.length)
    this.out.raw(bytes, 0, bytes.length)
    return this
  }

  private field(id: number, type: number): this {
    const delta = id - this.lastId
    if (delta > 0 && delta <= 15) this.out.byte((delta << 4) | type)
    else {
      this.out.byte(type)
      this.varint(zigzag(id))
    }
    this.lastId = id
    return this
  }

  private varint(v: number): void {
    while (v >= 0x80) {
      this.out.byte((v % 0x80) | 0x80)
      v = Math.floor(v / 0x80)
    }
    this.out.byte(v)
  }
}

function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1
}
