import type { JsonValue } from './convert.ts'
import type { QueryResult } from './warehouse.ts'

export type OutputFormat = 'table' | 'csv' | 'json'

function text(v: JsonValue): string {
  if (v === null) return ''
  return typeof v === 'object' ? JSON.stringify(v) : String(v)
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL)/

/** Column-aligned text for a terminal: numbers right-aligned, NULL shown as empty, a row count at the end. */
function table(r: QueryResult): string {
  const head = r.columns.map((c) => c.name)
  const body = r.rows.map((row) => row.map((v) => text(v).replace(/[\r\n\t]/g, ' ')))
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]?.length ?? 0)))
  const right = r.columns.map((c) => NUMERIC.test(c.type))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join(' | ')
      .trimEnd()
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('-+-'), ...body.map(line)]
  out.push(`(${r.rows.length} row${r.rows.length === 1 ? '' : 's'}${r.truncated ? ', truncated' : ''}, ${r.ms} ms)`)
  return out.join('\n') + '\n'
}

export function formatResult(r: QueryResult, format: OutputFormat): string {
  if (format === 'json') return JSON.stringify(r) + '\n'
  if (format === 'csv') {
    const lines = [r.columns.map((c) => csvField(c.name)).join(','), ...r.rows.map((row) => row.map((v) => csvField(text(v))).join(','))]
    return lines.join('\n') + '\n'
  }
  return table(r)
}
