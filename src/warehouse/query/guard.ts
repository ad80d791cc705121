/** Keywords a read-only query may start with. DESCRIBE/SHOW/SUMMARIZE only read the catalog or data. */
const READ_KEYWORDS = new Set(['select', 'with', 'from', 'values', 'table', 'describe', 'show', 'summarize'])

export const READ_ONLY_MESSAGE = 'only SELECT and WITH queries are allowed'

/** Strips leading whitespace, `--` and `/* *\/` comments and opening parentheses. */
function skipPrelude(sql: string): string {
  let s = sql
  for (;;) {
    const t = s.replace(/^[\s(]+/, '')
    if (t.startsWith('--')) {
      const nl = t.indexOf('\n')
      s = nl < 0 ? '' : t.slice(nl + 1)
    } else if (t.startsWith('/*')) {
      const end = t.indexOf('*/')
      s = end < 0 ? '' : t.slice(end + 2)
    } else return t
  }
}

/**
 * First line of defence, before DuckDB parses anything: the statement must start with a read
 * keyword. (PRAGMA is rewritten by DuckDB into a SELECT, so the prepared statement type alone
 * would let it through.) The caller then checks the statement count and the prepared type.
 */
export function firstKeyword(sql: string): string {
  const m = /^[a-z_]+/i.exec(skipPrelude(sql))
  return m ? m[0].toLowerCase() : ''
}

export function readOnlyViolation(sql: string): string | null {
  const kw = firstKeyword(sql)
  if (kw === '') return sql.trim() === '' ? 'empty query: send one SELECT or WITH statement' : READ_ONLY_MESSAGE
  if (!READ_KEYWORDS.has(kw)) return `${READ_ONLY_MESSAGE} (got ${kw.toUpperCase()})`
  return null
}
