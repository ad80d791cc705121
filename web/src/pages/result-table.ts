import { h, table } from '../dom.ts'
import { num, short } from '../format.ts'
import { isNumeric } from '../report-chart.ts'
import type { QueryResult } from '../types.ts'

/** Rows drawn in the page; a larger result says how many more there are. */
const MAX_ROWS = 500

export function resultTable(r: QueryResult, testid: string): HTMLElement {
  const numeric = r.columns.map((c) => isNumeric(c.type))
  const rows = r.rows.slice(0, MAX_ROWS).map((row) => row.map((v, i) => (v === null ? '' : numeric[i] && typeof v === 'number' ? num(v) : short(v, 200))))
  const notes = [`${r.rows.length} row${r.rows.length === 1 ? '' : 's'}`, `${r.ms.toFixed(1)} ms`]
  if (r.truncated) notes.push('truncated by the server')
  if (r.rows.length > MAX_ROWS) notes.push(`first ${MAX_ROWS} shown`)
  return h(
    'div',
    { class: 'result', 'data-testid': testid },
    h(
      'div',
      { class: 'scroll' },
      table(
        r.columns.map((c) => c.name),
        rows,
      ),
    ),
    h('p', { class: 'muted' }, notes.join(' · ')),
  )
}
