import type { JsonValue } from '../../events/envelope.ts'
import { CODEC, decodeEvent, encodeEvent } from '../../events/codec.ts'
import { readShortString } from '../../events/intern.ts'
import { FLATTEN_SEPARATOR, PROPERTY_PREFIX, RESERVED_COLUMN_NAMES, dtOf, type PropertyType } from '../layout.ts'
import { CsvOut } from './csv-out.ts'

export interface PropertyColumn {
  name: string
  type: PropertyType
  /** Rows disagreed on the type: the column is VARCHAR holding each value's JSON text. */
  conflict: boolean
}

/** The rows of one part file (one day, one event) as CSV, with the file's property columns. */
export interface CsvGroup {
  dt: string
  event: string
  rows: number
  /** Columns of the CSV after the fixed ones (CSV_BASE_COLUMNS), in file order. */
  columns: PropertyColumn[]
  /** Names of the columns that became VARCHAR JSON text. */
  conflicts: string[]
  csv: Buffer
}

/** The fixed CSV columns and how DuckDB reads them; the envelope's `event` and the partition are SQL constants. */
export const CSV_BASE_COLUMNS = [
  ['user_id', 'VARCHAR'],
  ['anonymous_id', 'VARCHAR'],
  ['ts', 'DOUBLE'],
  ['event_id', 'VARCHAR'],
  ['tenant', 'VARCHAR'],
  ['received_at', 'DOUBLE'],
  ['offset', 'BIGINT'],
  ['properties', 'VARCHAR'],
] as const

/*
 * Turns encoded events (src/events/codec.ts) into one CSV per (day, event), straight from their
 * bytes: strings are copied, not decoded. Property columns are those of the file's rows in the order
 * first seen (so the same offset range always gives the same file); nested objects are flattened with
 * `_`; arrays and nulls give no column (they stay in `properties`); names match case-insensitively,
 * as DuckDB's do. A column whose rows disagree on the type is a conflict: the group is written again
 * with that column as each value's JSON text. Rows missing trailing columns are padded by DuckDB.
 */

const DAY_MS = 86_400_000
const { VERSION, HAS_ANONYMOUS_ID, OPEN_BRACE, T_NULL, T_FALSE, T_TRUE, T_NUMBER, T_STRING, T_JSON } = CODEC

const K_EMPTY = 0
const K_NUMBER = 1
const K_STRING = 2
const K_BOOLEAN = 3
const K_VALUE = 4

const COMMA = 0x2c
const COLON = 0x3a
const QUOTE = 0x22
const NEWLINE = 0x0a
const CLOSE_BRACE = 0x7d

interface GroupBuild {
  dt: string
  event: string
  rows: number[]
  columns: PropertyColumn[]
  /** Exact key (or flattened path) → column. */
  byKey: Map<string, number>
  /** Lower-cased column name → column. */
  byName: Map<string, number>
}

export class CsvTranscoder {
  private readonly out = new CsvOut()
  // One row's property values by column, reset after each row.
  private kind = new Uint8Array(64)
  private num = new Float64Array(64)
  private start = new Int32Array(64)
  private end = new Int32Array(64)
  private value: Array<string | number | boolean | undefined> = []
  private touched: number[] = []

  /** Groups rows by day and event; rows keep their order within a group. */
  transcode(values: readonly Uint8Array[], offsets: readonly number[]): CsvGroup[] {
    const groups = new Map<string, Map<number, GroupBuild>>()
    const buffers: Buffer[] = new Array(values.length)
    for (let i = 0; i < values.length; i++) {
      const b = asBinary(values[i]!)
      buffers[i] = b
      if (b[0] !== VERSION) throw new Error(`unknown event encoding ${b[0]}`)
      const day = Math.floor(b.readDoubleLE(1) / DAY_MS)
      const event = readShortString(b, 19, 19 + b[18]!)
      let byDay = groups.get(event)
      if (!byDay) groups.set(event, (byDay = new Map()))
      let g = byDay.get(day)
      if (!g) byDay.set(day, (g = { dt: dtOf(day * DAY_MS), event, rows: [], columns: [], byKey: new Map(), byName: new Map() }))
      g.rows.push(i)
    }
    const result: CsvGroup[] = []
    for (const byDay of groups.values()) {
      for (const g of byDay.values()) {
        let csv = this.writeGroup(g, buffers, offsets, false)
        const conflicts = g.columns.filter((c) => c.conflict).map((c) => c.name)
        if (conflicts.length > 0) {
          for (const c of g.columns) if (c.conflict) c.type = 'VARCHAR'
          csv = this.writeGroup(g, buffers, offsets, true)
        }
        result.push({ dt: g.dt, event: g.event, rows: g.rows.length, columns: g.columns, conflicts, csv })
      }
    }
    return result.sort((a, b) => (a.dt + a.event < b.dt + b.event ? -1 : 1))
  }

  private writeGroup(g: GroupBuild, buffers: Buffer[], offsets: readonly number[], final: boolean): Buffer {
    const out = this.out
    out.reset()
    for (const i of g.rows) this.writeRow(g, buffers[i]!, offsets[i]!, final)
    return Buffer.from(out.bytes())
  }

  private writeRow(g: GroupBuild, b: Buffer, offset: number, final: boolean): void {
    const out = this.out
    const ts = b.readDoubleLE(1)
    const receivedAt = b.readDoubleLE(9)
    const hasAnonymous = (b[17]! & HAS_ANONYMOUS_ID) !== 0
    let pos = 18
    pos += 1 + b[pos]! // event: a SQL constant of the file
    const tenantStart = pos + 1
    pos = tenantStart + b[pos]!
    const tenantEnd = pos
    const userStart = pos + 2
    pos = userStart + b.readUInt16LE(pos)
    out.quotedBytes(b, userStart, pos)
    out.byte(COMMA)
    if (hasAnonymous) {
      const s = pos + 2
      pos = s + b.readUInt16LE(pos)
      out.quotedBytes(b, s, pos)
    }
    out.byte(COMMA)
    out.number(ts)
    out.byte(COMMA)
    const idStart = pos + 2
    pos = idStart + b.readUInt16LE(pos)
    out.quotedBytes(b, idStart, pos)
    out.byte(COMMA)
    out.quotedBytes(b, tenantStart, tenantEnd)
    out.byte(COMMA)
    out.number(receivedAt)
    out.byte(COMMA)
    out.integer(offset)
    out.byte(COMMA)

    const count = b.readUInt16LE(pos)
    pos += 2
    out.byte(QUOTE)
    out.byte(OPEN_BRACE)
    for (let p = 0; p < count; p++) {
      const kStart = pos + 1
      const kEnd = kStart + b[pos]!
      pos = kEnd
      if (p > 0) out.byte(COMMA)
      out.jsonStringInQuotes(b, kStart, kEnd)
      out.byte(COLON)
      const type = b[pos++]
      if (type === T_NUMBER) {
        const v = b.readDoubleLE(pos)
        pos += 8
        out.number(v)
        const c = this.column(g, readShortString(b, kStart, kEnd), 'DOUBLE')
        this.kind[c] = K_NUMBER
        this.num[c] = v
      } else if (type === T_STRING) {
        const s = pos + 4
        pos = s + b.readUInt32LE(pos)
        out.jsonStringInQuotes(b, s, pos)
        const c = this.column(g, readShortString(b, kStart, kEnd), 'VARCHAR')
        this.kind[c] = K_STRING
        this.start[c] = s
        this.end[c] = pos
      } else if (type === T_FALSE || type === T_TRUE) {
        out.ascii(type === T_TRUE ? 'true' : 'false')
        const c = this.column(g, readShortString(b, kStart, kEnd), 'BOOLEAN')
        this.kind[c] = K_BOOLEAN
        this.num[c] = type === T_TRUE ? 1 : 0
      } else if (type === T_NULL) out.ascii('null')
      else if (type === T_JSON) {
        const s = pos + 4
        pos = s + b.readUInt32LE(pos)
        out.rawInQuotes(b, s, pos)
        if (b[s] === OPEN_BRACE) this.flatten(g, readShortString(b, kStart, kEnd), JSON.parse(b.toString('utf8', s, pos)) as { [key: string]: JsonValue })
      } else throw new Error(`unknown property type ${type}`)
    }
    out.byte(CLOSE_BRACE)
    out.byte(QUOTE)

    let last = -1
    for (const c of this.touched) if (c > last) last = c
    for (let c = 0; c <= last; c++) {
      out.byte(COMMA)
      const k = this.kind[c]!
      if (k === K_EMPTY) continue
      this.kind[c] = K_EMPTY
      const json = final && g.columns[c]!.conflict
      if (k === K_NUMBER) out.number(this.num[c]!)
      else if (k === K_BOOLEAN) out.ascii(this.num[c] === 1 ? 'true' : 'false')
      else if (k === K_STRING) {
        if (!json) out.quotedBytes(b, this.start[c]!, this.end[c]!)
        else {
          out.byte(QUOTE)
          out.jsonStringInQuotes(b, this.start[c]!, this.end[c]!)
          out.byte(QUOTE)
        }
      } else {
        const v = this.value[c]!
        this.value[c] = undefined
        if (typeof v === 'number') out.number(v)
        else if (typeof v === 'boolean') out.ascii(v ? 'true' : 'false')
        else out.quotedString(json ? JSON.stringify(v) : v)
      }
    }
    this.touched.length = 0
    out.byte(NEWLINE)
  }

  /** Flattens a nested object's scalars into `key_sub` columns (rare: most properties are flat). */
  private flatten(g: GroupBuild, prefix: string, obj: { [key: string]: JsonValue }): void {
    for (const key in obj) {
      const v = obj[key]
      if (v === null || v === undefined || Array.isArray(v)) continue
      const path = prefix + FLATTEN_SEPARATOR + key
      if (typeof v === 'object') {
        this.flatten(g, path, v)
        continue
      }
      const c = this.column(g, path, typeof v === 'number' ? 'DOUBLE' : typeof v === 'boolean' ? 'BOOLEAN' : 'VARCHAR')
      this.kind[c] = K_VALUE
      this.value[c] = v
    }
  }

  /** The column of a key in this group (created on first sight), its type checked; marks it touched. */
  private column(g: GroupBuild, key: string, type: PropertyType): number {
    let c = g.byKey.get(key)
    if (c === undefined) {
      const lower = key.toLowerCase()
      const name = RESERVED_COLUMN_NAMES.has(lower) ? PROPERTY_PREFIX + key : key
      const lname = name === key ? lower : name.toLowerCase()
      c = g.byName.get(lname)
      if (c === undefined) {
        c = g.columns.length
        g.columns.push({ name, type, conflict: false })
        g.byName.set(lname, c)
        this.grow(c + 1)
      }
      g.byKey.set(key, c)
    }
    const col = g.columns[c]!
    if (col.type !== type && !col.conflict) col.conflict = true
    // A key seen twice in one row (case variants) keeps the later value, as an object would.
    if (this.kind[c] === K_EMPTY) this.touched.push(c)
    return c
  }

  private grow(n: number): void {
    if (n <= this.kind.length) return
    const size = Math.max(n, this.kind.length * 2)
    const kind = new Uint8Array(size)
    kind.set(this.kind)
    this.kind = kind
    const num = new Float64Array(size)
    num.set(this.num)
    this.num = num
    const start = new Int32Array(size)
    start.set(this.start)
    this.start = start
    const end = new Int32Array(size)
    end.set(this.end)
    this.end = end
  }
}

function asBinary(v: Uint8Array): Buffer {
  const b = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  // Other producers may write JSON events to the topic; give them the binary form first.
  return b[0] === OPEN_BRACE ? Buffer.from(encodeEvent(decodeEvent(b))) : b
}
