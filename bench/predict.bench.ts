import { DuckDBInstance } from '@duckdb/node-api'
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openEventLog } from '../src/log/open-log.ts'
import { predictRun, type RunRecord } from '../src/predict/index.ts'
import { writeLifecycleNdjson } from '../src/sim/lifecycle/ndjson.ts'
import { partFileName } from '../src/warehouse/layout.ts'
import { fmt, type Section } from './report.ts'

/** Issue 21's target: 1M users over 30+ days, trained and scored in under 5 minutes. */
const USERS = Number(process.env.TAGSTREAM_BENCH_PREDICT_USERS ?? 1_000_000)
/** 45 days: the 30-day wealth model needs that many (docs/predictions.md, "Labels and the time split"). */
const DAYS = 45
const END = Date.UTC(2026, 10, 1)
const TARGET_S = 300
const PARTITIONS = 8

/**
 * The lifecycle simulator's players (planted signal, docs/simulators.md) as the warehouse holds
 * them: its NDJSON read by DuckDB and written as the sink's layout, one file per day and event (the
 * sink's own speed is the warehouse bench's; here only the run is timed).
 */
export async function simulatedWarehouse(dir: string, users = USERS): Promise<number> {
  const ndjson = join(dir, 'players.ndjson')
  const sim = await writeLifecycleNdjson(ndjson, { users, days: DAYS, end: END, seed: 1 })
  const db = await DuckDBInstance.create(':memory:', { memory_limit: '8GB', temp_directory: join(dir, '.tmp') })
  const conn = await db.connect()
  const staged = join(dir, 'staged')
  try {
    await conn.run(`SET TimeZone = 'UTC'`)
    const cols = `{event: 'VARCHAR', user_id: 'VARCHAR', ts: 'BIGINT', player_wealth: 'DOUBLE', cost: 'DOUBLE', win: 'DOUBLE', amount: 'DOUBLE', currency: 'VARCHAR', level: 'VARCHAR', bonus: 'DOUBLE'}`
    await conn.run(
      `COPY (SELECT event, user_id, NULL::VARCHAR AS anonymous_id, make_timestamptz(ts * 1000) AS ts, 'e' || row_number() OVER () AS event_id, 'default' AS tenant,
        make_timestamptz(ts * 1000) AS received_at, 0 AS "partition", 0::BIGINT AS "offset",
        to_json({player_wealth: player_wealth, cost: cost, win: win, amount: amount, currency: currency, level: level, bonus: bonus})::VARCHAR AS properties,
        player_wealth, cost, win, amount, currency, level, bonus, strftime(make_timestamptz(ts * 1000), '%Y-%m-%d') AS dt
      FROM read_json('${ndjson}', format = 'newline_delimited', columns = ${cols}))
      TO '${staged}' (FORMAT parquet, PARTITION_BY (dt, event))`,
    )
  } finally {
    conn.closeSync()
    db.closeSync()
    rmSync(ndjson, { force: true })
  }
  // DuckDB names its files data_N.parquet: given the sink's names, so the views find them.
  for (const day of readdirSync(staged)) {
    for (const ev of readdirSync(join(staged, day))) {
      const to = join(dir, 'warehouse', 'events', day, ev)
      mkdirSync(to, { recursive: true })
      readdirSync(join(staged, day, ev)).forEach((f, i) => renameSync(join(staged, day, ev, f), join(to, partFileName(0, i * 1e9, i * 1e9 + 1e9 - 1))))
    }
  }
  rmSync(staged, { recursive: true, force: true })
  return sim.events
}

function duSize(path: string): number {
  let total = 0
  for (const e of readdirSync(path, { withFileTypes: true })) total += e.isDirectory() ? duSize(join(path, e.name)) : statSync(join(path, e.name)).size
  return total
}

/**
 * `tagstream predict run` (train, evaluate and score every model) over 1M simulated players and 45
 * days of their events, from a cold DuckDB: the features in SQL, the three models, scoring every
 * user active in the last 28 days and appending their prediction events to an embedded log. Beside
 * each model, its naive baseline on the same held-out rows, measured in the same run.
 */
export async function benchPredict(): Promise<Section> {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-bench-predict-'))
  try {
    const t0 = Date.now()
    const events = await simulatedWarehouse(dir)
    const prepS = (Date.now() - t0) / 1000
    const parquetMb = duSize(join(dir, 'warehouse')) / 1024 ** 2
    const { log } = await openEventLog(join(dir, 'log'), { partitions: PARTITIONS })
    let r: RunRecord
    try {
      r = await predictRun({ dataDir: dir, kind: 'run', asOfMs: END, log: { log, partitions: PARTITIONS } })
    } finally {
      await log.close()
    }
    if (r.status !== 'succeeded') throw new Error(`prediction run failed: ${r.error}`)
    const t = r.tenants.default!
    const models = t.training!.models
    const s = (ms: number | undefined) => (ms ?? 0) / 1000
    const figures: Section['figures'] = [
      { name: 'train + score, total', value: s(r.timings.total), unit: 's', target: `< ${TARGET_S} s`, met: s(r.timings.total) < TARGET_S },
      { name: 'features (the daily table)', value: s(r.timings.features), unit: 's' },
      { name: 'training and evaluation, 3 models', value: s(r.timings.train), unit: 's' },
      { name: 'scoring and appending predictions', value: s(r.timings.score), unit: 's' },
      { name: 'users scored', value: t.scored ?? 0, unit: 'users' },
    ]
    const margins: string[] = []
    for (const [name, m] of Object.entries(models)) {
      const q = m.quality
      const b = m.baseline.quality
      if (q?.kind === 'classifier' && b?.kind === 'classifier') {
        figures.push({ name: `${name} ROC AUC (baseline ${(b.rocAuc ?? 0).toFixed(4)})`, value: q.rocAuc ?? 0, unit: '', target: '> baseline', met: (q.rocAuc ?? 0) > (b.rocAuc ?? 0) })
        figures.push({ name: `${name} PR AUC (baseline ${(b.prAuc ?? 0).toFixed(4)})`, value: q.prAuc ?? 0, unit: '', target: '> baseline', met: (q.prAuc ?? 0) > (b.prAuc ?? 0) })
        margins.push(
          `${name} ${m.status}: ROC AUC +${((q.rocAuc ?? 0) - (b.rocAuc ?? 0)).toFixed(3)}, PR AUC +${((q.prAuc ?? 0) - (b.prAuc ?? 0)).toFixed(3)} over its baseline (${fmt(m.evalRows)} held-out rows)`,
        )
      } else if (q?.kind === 'regression' && b?.kind === 'regression') {
        figures.push({ name: `${name} MAE (baseline ${fmt(b.mae ?? 0)})`, value: q.mae ?? 0, unit: 'coins', target: '< baseline', met: (q.mae ?? 0) < (b.mae ?? 0) })
        figures.push({ name: `${name} R² (baseline ${(b.r2 ?? 0).toFixed(4)})`, value: q.r2 ?? 0, unit: '' })
        margins.push(`${name} ${m.status}: MAE ${((100 * ((b.mae ?? 0) - (q.mae ?? 0))) / (b.mae || 1)).toFixed(1)}% lower than its baseline's (${fmt(m.evalRows)} held-out rows)`)
      } else margins.push(`${name} ${m.status}: ${m.reason}`)
    }
    return {
      title: 'Daily predictions (issue 21)',
      description:
        `\`predict run\` over ${fmt(USERS)} simulated players (\`tagstream simulate lifecycle\`, seed 1) and ${DAYS} days: ${fmt(events)} events in ${fmt(parquetMb)} MB ` +
        `of Parquet (prepared in ${fmt(prepS)} s, not timed). One run from a cold DuckDB: the daily table, per horizon a seeded sample of 20,000 training ` +
        `and up to 200,000 held-out (user, cutoff) rows, three models fitted and evaluated, then every user active in the last 28 days scored and a ` +
        `prediction event appended for each (${PARTITIONS} partitions, embedded log). Held-out quality against each baseline, same run: ${margins.join('; ')}.`,
      figures,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
