import type { RunConnection } from './call-gate.ts'
import { buildViews } from '../warehouse/query/build-views.ts'
import { inventory } from '../warehouse/query/views.ts'
import { dailySql, sqlText, topEventsSql } from './features.ts'
import type { PredictOptions } from './predict-options.ts'
import type { RunRecord } from './run-store.ts'

/** Each tenant's event-mix events as a training run chose them. */
export function trainedMixes(r: RunRecord): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const [tenant, t] of Object.entries(r.tenants)) if (t.training !== null) out.set(tenant, [...t.training.mix])
  return out
}

/**
 * Makes, on `conn`, the warehouse's views (prediction rows are not in `events`: not activity),
 * `top_events` (the tenants' most common events, or `mixes` as a training run chose them, so a
 * scoring run's features line up with its models' weights) and `daily` (features.ts). Returns each
 * tenant's top events, in order.
 */
export async function featureTables(conn: RunConnection, root: string, asOfMs: number, o: PredictOptions, mixes: Map<string, string[]> | null): Promise<Map<string, string[]>> {
  await conn.run(`SET TimeZone = 'UTC'`)
  // The inventory keeps prediction files apart: the views' `events` and `sessions` never read them.
  await buildViews(conn, root, await inventory(root))
  if (mixes === null) {
    await conn.run(`CREATE OR REPLACE TEMP TABLE top_events AS ${topEventsSql(o, asOfMs)}`)
  } else {
    const rows = [...mixes].flatMap(([tenant, mix]) => mix.map((e, k) => `(${sqlText(tenant)}, ${sqlText(e)}, ${k})`))
    await conn.run('CREATE OR REPLACE TEMP TABLE top_events (tenant VARCHAR, event VARCHAR, k INTEGER)')
    if (rows.length > 0) await conn.run(`INSERT INTO top_events VALUES ${rows.join(', ')}`)
  }
  const out = new Map<string, string[]>()
  for (const [tenant, event] of (await conn.runAndReadAll('SELECT tenant, event FROM top_events ORDER BY tenant, k')).getRows()) {
    const list = out.get(String(tenant)) ?? []
    list.push(String(event))
    out.set(String(tenant), list)
  }
  await conn.run(`CREATE OR REPLACE TEMP TABLE daily AS ${dailySql(o, asOfMs)}`)
  return out
}
