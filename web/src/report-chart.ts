/**
 * Picks a chart for a query result, from its column types alone:
 * - a DATE or TIMESTAMP column → lines over time: one line per numeric column, or, when a text
 *   column is there too, one line per value of it (for the last numeric column);
 * - otherwise text labels and a numeric column → bars, labels joined from every non-numeric
 *   column, the first numeric column as the height (only numbers: the first labels, the last is
 *   the height);
 * - nothing numeric, or one row of numbers → no chart, only the table.
 */
export type ChartPlan =
  | { kind: 'lines'; x: number[]; series: Array<{ label: string; values: Array<number | null> }> }
  | { kind: 'bars'; labels: string[]; values: Array<number | null>; label: string; truncated: boolean }
  | null

export interface Column {
  name: string
  type: string
}

/** More bars than this do not read; the rest stay in the table. */
export const MAX_BARS = 40
/** More lines than this do not read either. */
export const MAX_LINES = 8

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL)/i
const TEMPORAL = /^(DATE|TIMESTAMP)/i

export function isNumeric(type: string): boolean {
  return NUMERIC.test(type)
}

function toNumber(v: unknown): number | null {
  if (v === null || v === undefined) return null
  const n = typeof v === 'number' ? v : Number(v)
  return Number.isFinite(n) ? n : null
}

/** A DATE (`2026-01-02`) or TIMESTAMP (ISO-8601) value → epoch seconds. */
function toSeconds(v: unknown): number | null {
  if (typeof v !== 'string') return null
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v)
  return Number.isFinite(ms) ? ms / 1000 : null
}

export function planChart(columns: readonly Column[], rows: readonly unknown[][]): ChartPlan {
  if (rows.length === 0) return null
  const numeric = columns.flatMap((c, i) => (isNumeric(c.type) ? [i] : []))
  const timeCol = columns.findIndex((c) => TEMPORAL.test(c.type))
  if (timeCol >= 0) {
    const values = numeric.filter((i) => i !== timeCol)
    if (values.length === 0) return null
    const groupCol = columns.findIndex((c, i) => i !== timeCol && !isNumeric(c.type) && !TEMPORAL.test(c.type))
    const xs = [...new Set(rows.map((r) => toSeconds(r[timeCol])).filter((x): x is number => x !== null))].sort((a, b) => a - b)
    const at = new Map(xs.map((x, i) => [x, i]))
    if (groupCol >= 0) {
      const y = values[values.length - 1]!
      const groups = new Map<string, Array<number | null>>()
      for (const r of rows) {
        const x = toSeconds(r[timeCol])
        if (x === null) continue
        const g = String(r[groupCol] ?? 'null')
        let line = groups.get(g)
        if (line === undefined) {
          if (groups.size >= MAX_LINES) continue
          line = xs.map(() => null)
          groups.set(g, line)
        }
        line[at.get(x)!] = toNumber(r[y])
      }
      return { kind: 'lines', x: xs, series: [...groups].map(([label, vals]) => ({ label: `${label} · ${columns[y]!.name}`, values: vals })) }
    }
    return {
      kind: 'lines',
      x: xs,
      series: values.slice(0, MAX_LINES).map((i) => {
        const vals: Array<number | null> = xs.map(() => null)
        for (const r of rows) {
          const x = toSeconds(r[timeCol])
          if (x !== null) vals[at.get(x)!] = toNumber(r[i])
        }
        return { label: columns[i]!.name, values: vals }
      }),
    }
  }
  const labelCols = columns.flatMap((c, i) => (isNumeric(c.type) ? [] : [i]))
  if (numeric.length === 0) return null
  let labels: number[]
  let valueCol: number
  if (labelCols.length > 0) {
    labels = labelCols
    valueCol = numeric[0]!
  } else {
    // Only numbers: the first column labels the bars (a bucket) and the last one is their height
    // (`min_wealth, below, players`). A single row of numbers is a summary: the table says it best.
    if (numeric.length < 2 || rows.length < 2) return null
    labels = [numeric[0]!]
    valueCol = numeric[numeric.length - 1]!
  }
  const shown = rows.slice(0, MAX_BARS)
  return {
    kind: 'bars',
    labels: shown.map((r) => labels.map((i) => String(r[i] ?? 'null')).join(' · ')),
    values: shown.map((r) => toNumber(r[valueCol])),
    label: columns[valueCol]!.name,
    truncated: rows.length > MAX_BARS,
  }
}
