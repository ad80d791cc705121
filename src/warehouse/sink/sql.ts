import type { JsonValue, TrackedEvent } from '../../events/envelope.ts'
import { FLATTEN_SEPARATOR, PROPERTY_PREFIX, RESERVED_COLUMN_NAMES, type PropertyType } from '../layout.ts'

/** One event with its place in the log: a row of a part file. */
export interface SinkRow {
  event: TrackedEvent
  offset: number
}

export interface PropertyColumn {
  name: string
  type: PropertyType
  /** Rows disagreed on the type: the column is VARCHAR holding each value's JSON text. */
  conflict: boolean
}

type Scalar = string | number | boolean

/** The flattened property columns of one file and, per row, the value of each column (undefined = NULL). */
export interface FileSchema {
  columns: PropertyColumn[]
  values: Array<Array<Scalar | undefined>>
  conflicts: string[]
}

/**
 * Flattens every row's properties and types the columns for one file. Columns appear in the order
 * first seen (rows in offset order), so the same range always gives the same schema.
 * Nested objects are joined with `_`; arrays and nulls produce no column (they stay in `properties`).
 * Names are matched case-insensitively, as DuckDB does: `Amount` and `amount` share one column.
 */
export function buildFileSchema(rows: readonly SinkRow[]): FileSchema {
  const index = new Map<string, number>()
  const columns: PropertyColumn[] = []
  const values: Array<Array<Scalar | undefined>> = new Array(rows.length)
  for (let r = 0; r < rows.length; r++) {
    const out: Array<Scalar | undefined> = []
    values[r] = out
    const visit = (prefix: string, obj: { [key: string]: JsonValue }): void => {
      for (const key in obj) {
        const v = obj[key]
        if (v === null || v === undefined || Array.isArray(v)) continue
        const path = prefix === '' ? key : prefix + FLATTEN_SEPARATOR + key
        if (typeof v === 'object') {
          visit(path, v)
          continue
        }
        const lower = path.toLowerCase()
        const name = RESERVED_COLUMN_NAMES.has(lower) ? PROPERTY_PREFIX + path : path
        const lname = name === path ? lower : name.toLowerCase()
        const type: PropertyType = typeof v === 'number' ? 'DOUBLE' : typeof v === 'boolean' ? 'BOOLEAN' : 'VARCHAR'
        let i = index.get(lname)
        if (i === undefined) {
          i = columns.length
          index.set(lname, i)
          columns.push({ name, type, conflict: false })
        } else {
          const col = columns[i]!
          if (!col.conflict && col.type !== type) col.conflict = true
        }
        out[i] = v
      }
    }
    visit('', rows[r]!.event.properties)
  }
  const conflicts: string[] = []
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i]!
    if (!col.conflict) continue
    conflicts.push(col.name)
    col.type = 'VARCHAR'
    for (const row of values) {
      const v = row[i]
      if (v !== undefined) row[i] = JSON.stringify(v)
    }
  }
  return { columns, values, conflicts }
}

/** A SQL identifier, quoted. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** A SQL string literal. */
export function literal(s: string): string {
  return `'${s.replaceAll("'", "''")}'`
}
