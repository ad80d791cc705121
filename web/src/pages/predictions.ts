import { api, messageOf } from '../api.ts'
import { decileChart, type Chart } from '../charts.ts'
import { fill, h, type Cleanup } from '../dom.ts'

/** The parts of a run record (docs/predictions.md, "Run records") this page shows. */
interface Bin {
  meanPredicted: number
  meanActual: number
}
type Quality =
  | { kind: 'classifier'; rows: number; positiveRate: number; rocAuc: number | null; prAuc: number | null; calibration: Bin[] }
  | { kind: 'regression'; rows: number; mae: number | null; r2: number | null; calibration: Bin[] }
interface ModelReport {
  about: string
  status: 'published' | 'not_published' | 'not_trained'
  reason: string | null
  trainRows: number
  evalRows: number
  cutoffs: { trainFrom: string; trainTo: string; evalFrom: string; evalTo: string } | null
  quality: Quality | null
  baseline: { description: string; quality: Quality | null }
}
interface Run {
  id: string
  kind: string
  status: string
  startedAt: string
  asOf: string
  error: string | null
  modelsFrom: string | null
  timings: Record<string, number>
  tenants: Record<string, { training: { days: number; firstDay: string; models: Record<string, ModelReport> } | null; scored: number | null; error?: string | null }>
}

const f = (v: number | null | undefined, digits = 4) => (v === null || v === undefined ? '—' : v.toFixed(digits))

/** The figures of a model and its baseline, side by side. */
function figures(m: ModelReport): HTMLElement {
  const q = m.quality
  const b = m.baseline.quality
  const rows: Array<[string, string, string]> =
    q?.kind === 'classifier' && b?.kind === 'classifier'
      ? [
          ['ROC AUC', f(q.rocAuc), f(b.rocAuc)],
          ['PR AUC', f(q.prAuc), f(b.prAuc)],
          ['positive rate', f(q.positiveRate), f(b.positiveRate)],
        ]
      : q?.kind === 'regression' && b?.kind === 'regression'
        ? [
            ['MAE', f(q.mae, 2), f(b.mae, 2)],
            ['R²', f(q.r2), f(b.r2)],
          ]
        : []
  return h(
    'table',
    { class: 'figures' },
    h('thead', null, h('tr', null, h('th', null, ''), h('th', null, 'model'), h('th', null, 'baseline'))),
    h('tbody', null, ...rows.map(([name, a, c]) => h('tr', null, h('td', null, name), h('td', null, a), h('td', null, c)))),
  )
}

function modelCard(name: string, m: ModelReport, charts: Chart[]): HTMLElement {
  const chartEl = h('div', { class: 'chart', 'data-testid': `calibration-${name}` })
  const card = h(
    'section',
    { class: 'card', 'data-testid': `model-${name}` },
    h('h3', null, `predicted.${name} `, h('span', { class: `badge ${m.status}`, 'data-testid': `status-${name}` }, m.status.replace('_', ' '))),
    h('p', { class: 'muted' }, m.about),
    m.reason === null ? null : h('p', null, m.reason),
    m.cutoffs === null
      ? null
      : h('p', { class: 'muted' }, `trained on cutoffs ${m.cutoffs.trainFrom} – ${m.cutoffs.trainTo} (${m.trainRows} rows), held out ${m.cutoffs.evalFrom} – ${m.cutoffs.evalTo} (${m.evalRows} rows)`),
    m.quality === null ? null : figures(m),
    m.quality === null ? null : h('p', { class: 'muted' }, `Baseline: ${m.baseline.description}. Calibration by decile of the held-out rows:`),
    m.quality === null ? null : chartEl,
  )
  if (m.quality !== null) {
    const lines = [
      { label: 'model: mean score', values: m.quality.calibration.map((b) => b.meanPredicted) },
      { label: 'model: observed', values: m.quality.calibration.map((b) => b.meanActual) },
    ]
    // Drawn once the card is in the page (uPlot measures its container).
    requestAnimationFrame(() => charts.push(decileChart(chartEl, lines, { yLabel: m.quality!.kind === 'classifier' ? 'rate' : 'wealth' })))
  }
  return card
}

/** Predictions: the newest run's models against their baselines, with calibration charts, and the runs before it. */
export function predictionsPage(root: HTMLElement): Cleanup {
  const charts: Chart[] = []
  fill(root, h('p', null, 'loading…'))
  void api<{ running: boolean; runs: Run[] }>('/v1/predictions/runs?limit=10')
    .then(({ running, runs }) => {
      const latest = runs.find((r) => r.kind !== 'score' && r.status === 'succeeded') ?? runs[0]
      if (latest === undefined) {
        fill(
          root,
          h(
            'section',
            { class: 'card', 'data-testid': 'no-runs' },
            h('h3', null, 'No prediction runs yet'),
            h('p', null, 'serve runs one daily (--predict-at, default 00:30 UTC); `tagstream predict run` starts one now. See docs/predictions.md.'),
          ),
        )
        return
      }
      const tenants = Object.entries(latest.tenants)
      fill(
        root,
        h(
          'section',
          { class: 'card' },
          h('h3', null, `Run ${latest.id}`),
          h(
            'p',
            { 'data-testid': 'run-summary' },
            `${latest.kind} ${latest.status}, features as of ${latest.asOf.slice(0, 10)}, ${f((latest.timings.total ?? 0) / 1000, 1)} s${running ? ' · a run is going now' : ''}`,
          ),
        ),
        ...tenants.flatMap(([tenant, t]) => [
          h('h2', null, `Tenant ${tenant}`, t.training === null ? '' : ` · ${t.training.days} days of history`, t.scored === null ? '' : ` · ${t.scored} users scored`),
          t.error === undefined || t.error === null ? null : h('p', { class: 'error' }, t.error),
          ...(t.training === null ? [] : Object.entries(t.training.models).map(([name, m]) => modelCard(name, m, charts))),
        ]),
        h(
          'section',
          { class: 'card' },
          h('h3', null, 'Recent runs'),
          h(
            'table',
            { 'data-testid': 'runs-table' },
            h('thead', null, h('tr', null, ...['run', 'kind', 'status', 'as of', 'seconds', 'error'].map((c) => h('th', null, c)))),
            h(
              'tbody',
              null,
              ...runs.map((r) =>
                h(
                  'tr',
                  null,
                  h('td', null, r.id),
                  h('td', null, r.kind),
                  h('td', null, r.status),
                  h('td', null, r.asOf.slice(0, 10)),
                  h('td', null, f((r.timings.total ?? 0) / 1000, 1)),
                  h('td', null, r.error ?? ''),
                ),
              ),
            ),
          ),
        ),
      )
    })
    .catch((err: unknown) => fill(root, h('p', { class: 'error' }, messageOf(err))))
  return () => {
    for (const c of charts) c.destroy()
  }
}
