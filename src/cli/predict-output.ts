import type { ModelName, Quality, RunRecord } from '../predict/index.ts'

const f4 = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(4))
const f2 = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(2))

/** The figures that judge a model, short: `ROC AUC 0.8123 PR AUC 0.4567` or `MAE 123.45 R² 0.6712`. */
function figures(q: Quality | null): string {
  if (q === null) return ''
  return q.kind === 'classifier' ? `ROC AUC ${f4(q.rocAuc)}  PR AUC ${f4(q.prAuc)}` : `MAE ${f2(q.mae)}  R² ${f4(q.r2)}`
}

/** A run record as text for `tagstream predict`: the run, then per tenant each model against its baseline. */
export function formatRun(r: RunRecord): string {
  const lines = [`run ${r.id} (${r.kind}) ${r.status}, as of ${r.asOf.slice(0, 10)}, ${((r.timings.total ?? 0) / 1000).toFixed(1)} s${r.modelsFrom === null ? '' : `, models of ${r.modelsFrom}`}`]
  if (r.error !== null) lines.push(`  error: ${r.error}`)
  for (const [tenant, t] of Object.entries(r.tenants)) {
    const scored = t.scored === null ? '' : `, ${t.scored} users scored`
    lines.push(`  tenant ${tenant}: ${t.training === null ? (t.error ?? 'models of the training run') : `${t.training.days} days from ${t.training.firstDay}`}${scored}`)
    if (t.training === null) continue
    for (const [name, m] of Object.entries(t.training.models) as Array<[ModelName, (typeof t.training.models)[ModelName]]>) {
      lines.push(`    ${name.padEnd(11)} ${m.status.padEnd(13)} ${figures(m.quality)}${m.quality === null ? '' : `  | baseline ${figures(m.baseline.quality)}`}`)
      if (m.status === 'not_trained') lines.push(`      ${m.reason ?? ''}`)
    }
  }
  return `${lines.join('\n')}\n`
}
