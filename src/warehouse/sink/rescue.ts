import type { PropertyType } from '../layout.ts'
import { ByteOut } from './byte-out.ts'
import type { ColumnTypes } from './column-types.ts'
import { K_BOOLEAN, K_NUMBER, K_STRING, type FileBuild, type PropertyColumn, type PropertyValues, type RowGroupBuild } from './event-columns.ts'
import { packBooleans, type ColumnChunk } from './parquet-encode.ts'

/*
 * Columns keep their types (docs/warehouse-sink.md, "Columns and typing"): a value that does not
 * fit its column's type is left out of the column (NULL there) and kept in the row's rescue column,
 * `_rescued`, a JSON object of column name → value as sent. Conflicts are rare, so all of this runs
 * once per file and only for columns that have one; rows that fit cost nothing more.
 */

const KIND_OF: Record<PropertyType, number> = { DOUBLE: K_NUMBER, VARCHAR: K_STRING, BOOLEAN: K_BOOLEAN }
const TYPE_OF: Record<number, PropertyType> = { [K_NUMBER]: 'DOUBLE', [K_STRING]: 'VARCHAR', [K_BOOLEAN]: 'BOOLEAN' }

/**
 * Gives every column of a built file its type: the event's established one; else, for a column the
 * warehouse has never seen, the type most of this file's values have (ties: the first value's), so
 * one odd value in the very first file does not decide for everyone. The types so chosen become
 * established. Marks a column `conflict` when some of its values do not fit.
 */
export function settleColumnTypes(f: FileBuild, types: ColumnTypes): void {
  const established = types.of(f.event)
  for (let c = 0; c < f.columns.length; c++) {
    const col = f.columns[c]!
    const lname = col.name.toLowerCase()
    const target = established.get(lname) ?? (col.conflict ? majority(f, c, col.type) : col.type)
    if (target !== col.type) col.conflict = true
    col.type = target
    types.establish(f.event, lname, target)
  }
}

function majority(f: FileBuild, c: number, first: PropertyType): PropertyType {
  const counts = [0, 0, 0, 0]
  for (const g of f.groups) {
    const v = g.values[c]
    if (v) for (let i = 0; i < v.n; i++) counts[v.kinds[i]!]!++
  }
  let best = KIND_OF[first]
  for (const k of [K_NUMBER, K_STRING, K_BOOLEAN]) if (counts[k]! > counts[best]!) best = k
  return TYPE_OF[best]!
}

/** The chunk of a conflict column: only the values of its type; the others are NULL here. */
export function fittingChunk(g: RowGroupBuild, v: PropertyValues, col: PropertyColumn): ColumnChunk {
  const want = KIND_OF[col.type]
  const defined = new Uint8Array(g.rows)
  const out = new ByteOut(want === K_STRING ? v.strs.pos : 16)
  const nums = new Float64Array(v.n)
  let m = 0
  let s = 0
  for (let i = 0; i < v.n; i++) {
    const k = v.kinds[i]
    const len = k === K_STRING ? v.strs.buf.readUInt32LE(s) : 0
    if (k === want) {
      defined[v.rows[i]!] = 1
      if (k === K_STRING) out.raw(v.strs.buf, s, s + 4 + len)
      else nums[m] = v.nums[i]!
      m++
    }
    if (k === K_STRING) s += 4 + len
  }
  const values = want === K_STRING ? Buffer.from(out.bytes()) : want === K_NUMBER ? Buffer.from(nums.buffer, 0, m * 8) : packBooleans(new Uint8Array(nums.subarray(0, m)), m)
  return { values: [values], defined, nulls: g.rows - m }
}

/** The rescue column's chunk for a row group: per row with misfits, `{"name":value,…}` in column order. */
export function rescueChunk(g: RowGroupBuild, columns: readonly PropertyColumn[]): ColumnChunk {
  // Per row, its misfits as [column, value index, string offset].
  const byRow = new Map<number, Array<[number, number, number]>>()
  for (let c = 0; c < columns.length; c++) {
    const col = columns[c]!
    const v = g.values[c]
    if (!col.conflict || !v) continue
    const want = KIND_OF[col.type]
    let s = 0
    for (let i = 0; i < v.n; i++) {
      const k = v.kinds[i]
      if (k !== want) {
        let list = byRow.get(v.rows[i]!)
        if (!list) byRow.set(v.rows[i]!, (list = []))
        list.push([c, i, s])
      }
      if (k === K_STRING) s += 4 + v.strs.buf.readUInt32LE(s)
    }
  }
  const defined = new Uint8Array(g.rows)
  const out = new ByteOut(256)
  for (const row of [...byRow.keys()].sort((a, b) => a - b)) {
    defined[row] = 1
    const at = out.pos
    out.u32(0)
    out.byte(0x7b)
    byRow.get(row)!.forEach(([c, i, s], n) => {
      if (n > 0) out.byte(0x2c)
      const name = Buffer.from(columns[c]!.name, 'utf8')
      out.jsonString(name, 0, name.length)
      out.byte(0x3a)
      const v = g.values[c]!
      const k = v.kinds[i]
      if (k === K_NUMBER) out.number(v.nums[i]!)
      else if (k === K_BOOLEAN) out.ascii(v.nums[i] === 1 ? 'true' : 'false')
      else out.jsonString(v.strs.buf, s + 4, s + 4 + v.strs.buf.readUInt32LE(s))
    })
    out.byte(0x7d)
    out.u32At(at, out.pos - at - 4)
  }
  return { values: [Buffer.from(out.bytes())], defined, nulls: g.rows - byRow.size }
}
