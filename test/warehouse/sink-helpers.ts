import { DuckDBInstance } from '@duckdb/node-api'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { validateEvent, type TrackedEvent } from '../../src/events/index.ts'
import { appendEvents } from '../../src/ingest/append-events.ts'
import type { EventLog } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { inventory } from '../../src/warehouse/query/views.ts'

/** Validated events over two UTC days, several event names, nested and array properties. */
export function workload(n: number, seed = 7): TrackedEvent[] {
  let s = seed
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32
  const t0 = Date.UTC(2026, 10, 1, 20)
  const out: TrackedEvent[] = []
  for (let i = 0; i < n; i++) {
    const user = String(1 + Math.floor(rnd() * 300))
    const kind = rnd()
    const ts = t0 + i * Math.floor((8 * 3_600_000) / n)
    const raw =
      kind < 0.1
        ? { event: 'in_app_purchase', user_id: user, ts, amount: [0.99, 4.99, 9.99][Math.floor(rnd() * 3)], item: 'sword', meta: { store: 'apple', price: 1.5, promo: rnd() < 0.5 } }
        : kind < 0.15
          ? { event: 'login', anonymous_id: `anon-${user}`, ts, tags: ['a', 'b'], first: rnd() < 0.5 }
          : { event: 'spin', user_id: user, ts, bet: 1 + Math.floor(rnd() * 5), win: rnd() < 0.3 }
    const v = validateEvent({ ...raw, event_id: `e${seed}-${i}` }, { receivedAt: ts + 5 })
    if (!v.ok) throw new Error(v.error.reason)
    out.push(v.event)
  }
  return out
}

export async function appendAll(log: EventLog, events: readonly TrackedEvent[], partitions: number, batch = 500): Promise<void> {
  for (let i = 0; i < events.length; i += batch) await appendEvents(log, events.slice(i, i + batch), partitions)
}

/** Runs one query over the warehouse (hive partitioning on) and returns JS row objects. */
export async function query(root: string, sql: (from: string) => string): Promise<Array<Record<string, unknown>>> {
  const instance = await DuckDBInstance.create(':memory:')
  const c = await instance.connect()
  try {
    // The live files, as the warehouse's own views read them: a glob would also read merge inputs
    // kept for their grace period (docs/warehouse-sink.md, "Compaction").
    const files = Object.values((await inventory(root)).events).flat()
    const from = files.length === 0 ? `(SELECT NULL AS event WHERE false)` : `read_parquet([${files.map((f) => `'${f}'`).join(', ')}], hive_partitioning = true, union_by_name = true)`
    const reader = await c.runAndReadAll(sql(from))
    return reader.getRowObjectsJS() as Array<Record<string, unknown>>
  } finally {
    c.closeSync()
    instance.closeSync()
  }
}

/** Row count, an order-independent checksum and the duplicate count of a warehouse. */
export async function fingerprint(root: string): Promise<{ rows: number; checksum: string; duplicates: number }> {
  const [a] = await query(
    root,
    (from) => `SELECT count(*) AS n, sum(hash(event, user_id, anonymous_id, ts, event_id, tenant, received_at, "partition", "offset", properties, dt)::HUGEINT)::VARCHAR AS h,
      count(*) - count(DISTINCT ("partition", "offset")) AS dup FROM ${from}`,
  )
  return { rows: Number(a!.n), checksum: String(a!.h), duplicates: Number(a!.dup) }
}

/** A fresh directory (pushed to `dirs` for cleanup) holding an embedded log of two partitions, and the warehouse root beside it. */
export async function logAndWarehouse(prefix: string, dirs: string[]): Promise<{ tmp: string; log: EventLog; partitions: number; root: string }> {
  const tmp = mkdtempSync(join(tmpdir(), prefix))
  dirs.push(tmp)
  const { log, partitions } = await openEventLog(join(tmp, 'log'), { partitions: 2 })
  return { tmp, log, partitions, root: join(tmp, 'wh') }
}
