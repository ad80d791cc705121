import { api, enc, messageOf } from '../api.ts'
import { barChart, lineChart, type Chart } from '../charts.ts'
import { fill, h, type Cleanup } from '../dom.ts'
import { planChart } from '../report-chart.ts'
import type { QueryResult, ReportInfo } from '../types.ts'
import { resultTable } from './result-table.ts'
import { sqlBox } from './sql-box.ts'

/** Reports: the warehouse's named reports as charts and tables, and a SQL box. */
export function reportsPage(root: HTMLElement, selected: string | undefined): Cleanup {
  const list = h('nav', { class: 'report-list', 'data-testid': 'report-list' }, 'loading…')
  const view = h('div', { class: 'report-view' })
  const sql = sqlBox()
  fill(root, h('div', { class: 'reports' }, list, h('section', { class: 'card grow' }, view)), sql.el)
  let chart: Chart | null = null
  let ac: AbortController | null = null

  const show = async (r: ReportInfo) => {
    for (const b of list.querySelectorAll('button')) b.classList.toggle('active', b.dataset.report === r.name)
    chart?.destroy()
    chart = null
    ac?.abort()
    ac = new AbortController()
    const params = r.params.filter((p) => p.name !== 'tenant')
    const inputs = params.map((p) => h('input', { name: p.name, value: String(p.default ?? ''), title: p.description, size: 8 }))
    const chartEl = h('div', { class: 'chart', 'data-testid': 'report-chart' })
    const out = h('div', null, 'running…')
    const form = h('form', { class: 'row' }, ...params.map((p, i) => h('label', { title: p.description }, p.name, inputs[i]!)), params.length > 0 ? h('button', { type: 'submit' }, 'Run') : null)
    fill(view, h('h3', null, r.title), h('p', { class: 'muted' }, r.question), form, chartEl, out)
    const run = async () => {
      const q = new URLSearchParams()
      params.forEach((p, i) => q.set(p.name, inputs[i]!.value))
      try {
        const result = await api<QueryResult>(`/v1/reports/${enc(r.name)}?${q}`, { signal: ac!.signal })
        chart?.destroy()
        chart = null
        chartEl.replaceChildren()
        const plan = planChart(result.columns, result.rows)
        if (plan?.kind === 'bars') chart = barChart(chartEl, plan.labels, plan.values, plan.label)
        else if (plan?.kind === 'lines') {
          const lines = lineChart(
            chartEl,
            plan.series.map((s) => s.label),
          )
          lines.setData(
            plan.x,
            plan.series.map((s) => s.values),
          )
          chart = lines
        } else chartEl.append(h('p', { class: 'muted' }, result.rows.length === 0 ? 'No data yet: the warehouse sink writes events to Parquet every few seconds.' : 'Nothing to chart in this result.'))
        fill(out, resultTable(result, 'report-table'))
      } catch (err) {
        if (err instanceof DOMException && err.name === 'AbortError') return
        fill(out, h('p', { class: 'error', 'data-testid': 'report-error' }, messageOf(err)))
      }
    }
    form.addEventListener('submit', (ev) => {
      ev.preventDefault()
      void run()
    })
    await run()
  }

  void api<{ reports: ReportInfo[] }>('/v1/reports')
    .then(({ reports }) => {
      fill(list, ...reports.map((r) => h('button', { type: 'button', 'data-report': r.name, title: r.question, onclick: () => (location.hash = `#/reports/${enc(r.name)}`) }, r.title)))
      const first = reports.find((r) => r.name === selected) ?? reports[0]
      if (first) void show(first)
    })
    .catch((err: unknown) => fill(list, h('p', { class: 'error' }, messageOf(err))))

  return () => {
    ac?.abort()
    chart?.destroy()
  }
}
