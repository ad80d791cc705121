import { Counter, Gauge, type Registry } from 'prom-client'
import type { RunRecord } from '../../predict/index.ts'

/** Prometheus series of the prediction runs this server ran (docs/operations.md, "Metrics"). */
export class PredictionMetrics {
  readonly runs: Counter<'kind' | 'status'>
  readonly lastSuccess: Gauge
  readonly quality: Gauge<'tenant' | 'model' | 'metric' | 'of'>
  readonly scored: Gauge<'tenant'>

  constructor(registry: Registry) {
    this.runs = new Counter({ name: 'tagstream_prediction_runs_total', help: 'Prediction runs this server ran, by kind and how they ended', labelNames: ['kind', 'status'], registers: [registry] })
    this.lastSuccess = new Gauge({ name: 'tagstream_prediction_last_success_timestamp_seconds', help: 'When the last prediction run this server ran succeeded (Unix time)', registers: [registry] })
    this.quality = new Gauge({
      name: 'tagstream_prediction_quality',
      help: 'Held-out quality of the last trained models (metric roc_auc, pr_auc, mae or r2; of="model" or "baseline")',
      labelNames: ['tenant', 'model', 'metric', 'of'],
      registers: [registry],
    })
    this.scored = new Gauge({ name: 'tagstream_prediction_scored_users', help: 'Users the last scoring run gave prediction events, per tenant', labelNames: ['tenant'], registers: [registry] })
  }

  record(r: RunRecord): void {
    this.runs.inc({ kind: r.kind, status: r.status })
    if (r.status !== 'succeeded') return
    this.lastSuccess.set(Date.parse(r.finishedAt ?? r.startedAt) / 1000)
    for (const [tenant, t] of Object.entries(r.tenants)) {
      if (t.scored !== null) this.scored.set({ tenant }, t.scored)
      for (const [model, m] of Object.entries(t.training?.models ?? {})) {
        for (const [of, q] of [
          ['model', m.quality],
          ['baseline', m.baseline.quality],
        ] as const) {
          if (q === null) continue
          const figures = q.kind === 'classifier' ? { roc_auc: q.rocAuc, pr_auc: q.prAuc } : { mae: q.mae, r2: q.r2 }
          for (const [metric, v] of Object.entries(figures)) if (v !== null) this.quality.set({ tenant, model, metric, of }, v)
        }
      }
    }
  }
}
