import { readShortString } from '../../events/intern.ts'
import { sameBytes } from '../../events/same-bytes.ts'
import { PROPERTY_PREFIX, RESERVED_COLUMN_NAMES, type PropertyType } from '../layout.ts'
import { ByteOut } from './byte-out.ts'
import { int64Bytes } from './parquet-encode.ts'

/*
 * The columns of one part file while its rows arrive (./event-rows.ts walks the events): the fixed
 * columns PLAIN-encoded row by row, property values kept per column in the type each value had, and
 * the one place that decides a property's column (FileBuild.values). Property values are encoded
 * only when the file is (./event-file.ts), once every column's type is settled.
 */

export interface PropertyColumn {
  name: string
  /** The event's established type for the column (./column-types.ts), or, for a new one, the type it establishes. */
  type: PropertyType
  /** Some values are not of `type`: they are left out of the column and kept in RESCUED_COLUMN instead. */
  conflict: boolean
}

/**
 * The column holding, per row, the properties whose values did not fit their column's type, as a
 * JSON object (column name → the value as sent), like Auto Loader's `_rescued_data`. A file has it
 * only when some row needs it; a property named so gets PROPERTY_PREFIX, as reserved names do.
 */
export const RESCUED_COLUMN = '_rescued'

/** Rows per row group: DuckDB's own default, so readers split large files the same way. */
export const ROW_GROUP_ROWS = 122_880

export const K_NUMBER = 1
export const K_STRING = 2
export const K_BOOLEAN = 3

/** One property column's values within a row group, by row, in the type each value had. */
export class PropertyValues {
  n = 0
  rows = new Int32Array(64)
  kinds = new Uint8Array(64)
  /** Numbers, and booleans as 0/1. */
  nums = new Float64Array(64)
  /** String values as PLAIN byte arrays (length, bytes), in order. */
  readonly strs = new ByteOut(256)
  private lastRow = -1
  private lastStr = 0

  reset(): void {
    this.n = 0
    this.strs.reset()
    this.lastRow = -1
  }

  /** Starts a value of `row`; a second value in the same row (case-variant keys) replaces the first, as in an object. */
  private next(row: number): number {
    if (row === this.lastRow) {
      this.n--
      if (this.kinds[this.n] === K_STRING) this.strs.pos = this.lastStr
    } else if (this.n === this.rows.length) this.grow()
    this.lastRow = row
    this.rows[this.n] = row
    return this.n++
  }

  number(row: number, v: number): void {
    const i = this.next(row)
    this.kinds[i] = K_NUMBER
    this.nums[i] = v
  }

  boolean(row: number, v: boolean): void {
    const i = this.next(row)
    this.kinds[i] = K_BOOLEAN
    this.nums[i] = v ? 1 : 0
  }

  string(row: number, src: Uint8Array, start: number, end: number, from?: DataView): void {
    const i = this.next(row)
    this.kinds[i] = K_STRING
    this.lastStr = this.strs.pos
    this.strs.byteArray(src, start, end, from)
  }

  private grow(): void {
    const n = this.rows.length * 2
    const rows = new Int32Array(n)
    rows.set(this.rows)
    this.rows = rows
    const kinds = new Uint8Array(n)
    kinds.set(this.kinds)
    this.kinds = kinds
    const nums = new Float64Array(n)
    nums.set(this.nums)
    this.nums = nums
  }
}

/**
 * A row group's fixed columns, PLAIN-encoded as rows arrive, and its property values. Row groups
 * are reused from flush to flush (RowGroupPool): their buffers reach full size once, instead of
 * growing, page-faulting and being collected on every flush.
 */
export class RowGroupBuild {
  rows = 0
  readonly userId = new ByteOut()
  readonly anonymousId = new ByteOut()
  /** Per row, 1 when anonymous_id is there. */
  anonymousDefined = new Uint8Array(1024)
  anonymousNulls = 0
  /** Microseconds (from epoch ms). */
  readonly ts = new Int64Column(1024, 1000)
  readonly eventId = new ByteOut()
  readonly tenant = new ByteOut()
  readonly receivedAt = new Int64Column(1024, 1000)
  readonly offset = new Int64Column(1024, 1)
  readonly properties = new ByteOut()
  /** The group's compressed pages once the file is encoded (./parquet-encode.ts): valid until the group is reused. */
  readonly pages = new ByteOut()
  /** By property column; a column first seen in a later row group has none here. */
  readonly values: Array<PropertyValues | undefined> = []
  private readonly spare: PropertyValues[] = []

  /** The values of property column c, created on first use. */
  valuesOf(c: number): PropertyValues {
    return (this.values[c] ??= this.spare.pop() ?? new PropertyValues())
  }

  /** Rows the fixed-width columns have room for. */
  capacity = 1024

  /** Makes room for more rows. */
  grow(): void {
    const n = this.capacity * 2
    this.capacity = n
    this.ts.grow(n)
    this.receivedAt.grow(n)
    this.offset.grow(n)
    const d = new Uint8Array(n)
    d.set(this.anonymousDefined)
    this.anonymousDefined = d
  }

  reset(): void {
    this.rows = 0
    this.anonymousNulls = 0
    this.ts.reset()
    this.receivedAt.reset()
    this.offset.reset()
    for (const out of [this.userId, this.anonymousId, this.eventId, this.tenant, this.properties]) out.reset()
    for (const v of this.values) {
      if (!v) continue
      v.reset()
      this.spare.push(v)
    }
    this.values.length = 0
  }
}

/**
 * An INT64 column in PLAIN encoding (little-endian words), written as rows arrive, each value an
 * integral number times `scale` (1000: ms to µs), with the min and max of the values.
 */
export class Int64Column {
  words: Int32Array
  min = Infinity
  max = -Infinity

  constructor(
    capacity: number,
    readonly scale: number,
  ) {
    this.words = new Int32Array(capacity * 2)
  }

  set(row: number, v: number): void {
    if (v < this.min) this.min = v
    if (v > this.max) this.max = v
    const m = v * this.scale
    if (m <= Number.MAX_SAFE_INTEGER && m >= -Number.MAX_SAFE_INTEGER) {
      // Every time and offset the sink meets: the product is exact, and so are its 32-bit halves.
      const hi = Math.floor(m / TWO_32)
      this.words[2 * row] = m - hi * TWO_32
      this.words[2 * row + 1] = hi
    } else this.words.set(new Int32Array(int64Bytes(Float64Array.of(v), 1, this.scale).buffer, 0, 2), 2 * row)
  }

  grow(capacity: number): void {
    const words = new Int32Array(capacity * 2)
    words.set(this.words)
    this.words = words
  }

  reset(): void {
    this.min = Infinity
    this.max = -Infinity
  }
}

const TWO_32 = 4294967296

/** Row groups whose file has been written, ready for the next flush. */
export class RowGroupPool {
  private readonly free: RowGroupBuild[] = []

  take(): RowGroupBuild {
    return this.free.pop() ?? new RowGroupBuild()
  }

  give(groups: readonly RowGroupBuild[]): void {
    for (const g of groups) {
      g.reset()
      // Enough for a few files in flight; more would only hold memory.
      if (this.free.length < 8) this.free.push(g)
    }
  }
}

/** One (day, event) file being built. */
export class FileBuild {
  readonly groups: RowGroupBuild[]
  readonly columns: PropertyColumn[] = []
  /** Exact key (or flattened path) → column. */
  readonly byKey = new Map<string, number>()
  /** Lower-cased column name → column. */
  readonly byName = new Map<string, number>()
  rows = 0

  private group: RowGroupBuild
  /** The event name's bytes, for telling a row of this file by comparison. */
  readonly eventBytes: Buffer

  constructor(
    readonly dt: string,
    readonly event: string,
    private readonly pool: RowGroupPool,
    /** The event's established column types, by lower-cased column name (./column-types.ts). */
    private readonly established: ReadonlyMap<string, PropertyType> = new Map(),
  ) {
    this.group = pool.take()
    this.groups = [this.group]
    this.eventBytes = Buffer.from(event, 'utf8')
  }

  /** The row group taking the next row. */
  current(): RowGroupBuild {
    let g = this.group
    if (g.rows === ROW_GROUP_ROWS) this.groups.push((this.group = g = this.pool.take()))
    if (g.rows === g.capacity) g.grow()
    return g
  }

  /** The values of a key's column in row group g (the column created on first sight), its type checked. */
  values(g: RowGroupBuild, key: string, type: PropertyType): PropertyValues {
    return this.checked(g, this.column(key, type), type)
  }

  /**
   * The same for the key at b[start, end), the row's `position`-th property. Rows of one event nearly
   * always carry the same keys in the same order: comparing the key's bytes with the last ones seen at
   * that position replaces making a string of them and looking it up.
   */
  valuesAt(g: RowGroupBuild, b: Buffer, start: number, end: number, position: number, type: PropertyType): PropertyValues {
    const memo = this.memoKeys[position]
    let c: number
    if (memo !== undefined && holdsMemo(memo, b, start, end)) c = this.memoColumns[position]!
    else {
      c = this.column(readShortString(b, start, end), type)
      this.memoKeys[position] = Uint8Array.prototype.slice.call(b, start, end)
      this.memoColumns[position] = c
    }
    return this.checked(g, c, type)
  }

  private readonly memoKeys: Uint8Array[] = []
  private readonly memoColumns: number[] = []

  /** The column of an exact key (or flattened path): created on first sight with the value's type, names matched case-insensitively. */
  private column(key: string, type: PropertyType): number {
    let c = this.byKey.get(key)
    if (c === undefined) {
      const lower = key.toLowerCase()
      const name = RESERVED_COLUMN_NAMES.has(lower) || lower === RESCUED_COLUMN ? PROPERTY_PREFIX + key : key
      const lname = name === key ? lower : name.toLowerCase()
      c = this.byName.get(lname)
      if (c === undefined) {
        c = this.columns.length
        // An established type wins over this value's: a value that does not fit is a conflict (checked).
        this.columns.push({ name, type: this.established.get(lname) ?? type, conflict: false })
        this.byName.set(lname, c)
      }
      this.byKey.set(key, c)
    }
    return c
  }

  private checked(g: RowGroupBuild, c: number, type: PropertyType): PropertyValues {
    const col = this.columns[c]!
    if (col.type !== type) col.conflict = true
    return g.valuesOf(c)
  }
}

/** Whether b[start, end) holds exactly the bytes of `memo`. */
export function holdsMemo(memo: Uint8Array, b: Uint8Array, start: number, end: number): boolean {
  return memo.length === end - start && sameBytes(memo, 0, b, start, memo.length)
}
