import { api, messageOf } from '../api.ts'
import { fill, h } from '../dom.ts'
import type { QueryResult } from '../types.ts'
import { resultTable } from './result-table.ts'

const EXAMPLE = 'SELECT event, count(*) AS events, count(DISTINCT user_id) AS users\nFROM events\nGROUP BY event\nORDER BY events DESC'

/** What was typed, kept while the page lives: switching reports rebuilds the page, not the query. */
let typed = EXAMPLE

/** One read-only SQL statement over the warehouse views (POST /v1/query: an admin key reads its tenant's rows, an operator key every tenant's). */
export function sqlBox(): { el: HTMLElement } {
  const text = h('textarea', { 'data-testid': 'sql', rows: 5, spellcheck: 'false' })
  text.value = typed
  text.addEventListener('input', () => (typed = text.value))
  const run = h('button', { type: 'submit', 'data-testid': 'sql-run' }, 'Run')
  const out = h('div', { 'data-testid': 'sql-output' })
  const form = h(
    'form',
    { class: 'card sql' },
    h('h3', null, 'SQL'),
    h('p', { class: 'muted' }, 'Views: events, buys, social, segment_changes, notifications, identities, profiles, sessions, predictions (docs/warehouse.md). Ctrl+Enter runs.'),
    text,
    h('div', { class: 'row' }, run),
    out,
  )
  const go = async () => {
    run.disabled = true
    fill(out, h('p', { class: 'muted' }, 'running…'))
    try {
      fill(out, resultTable(await api<QueryResult>('/v1/query', { method: 'POST', body: { sql: text.value, limit: 1000 } }), 'sql-table'))
    } catch (err) {
      fill(out, h('pre', { class: 'error', 'data-testid': 'sql-error' }, messageOf(err)))
    } finally {
      run.disabled = false
    }
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    void go()
  })
  text.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault()
      void go()
    }
  })
  return { el: form }
}
