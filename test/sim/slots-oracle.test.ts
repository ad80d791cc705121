import { DuckDBInstance } from '@duckdb/node-api'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { generateSlots, writeSlotsNdjson, type RawEvent } from '../../src/sim/index.ts'
import { tempDir, writeTempNdjson } from '../support/ndjson.ts'
import { oracleMembers, oracleMembersTimed } from '../support/slots-oracle.ts'

const B = 60_000
const K = Math.floor(Date.UTC(2026, 10, 1, 12, 7) / B)
/** Start of the oldest bucket still in the window at any T inside bucket K. */
const EDGE = (K - 119) * B

const spin = (user: string, ts: number): RawEvent => ({ event: 'spin', user_id: user, ts, bet: 1, machine: 'm' })
const buy = (user: string, ts: number, amount: number): RawEvent => ({ event: 'in_app_purchase', user_id: user, ts, amount, item: 'gems' })
const spins = (user: string, n: number, ts: number) => Array.from({ length: n }, () => spin(user, ts))

/** One user per boundary; each differs from a member in exactly one respect. `T` is where in bucket K we look. */
function cases(T: number): { events: RawEvent[]; members: string[] } {
  const inside = K * B
  const events = [
    ...spins('edge_spin', 199, inside),
    spin('edge_spin', EDGE),
    buy('edge_spin', inside, 19.99),
    ...spins('before_edge_spin', 199, inside),
    spin('before_edge_spin', EDGE - 1),
    buy('before_edge_spin', inside, 19.99),
    ...spins('old_bucket_spin', 199, inside),
    spin('old_bucket_spin', EDGE - B),
    buy('old_bucket_spin', inside, 19.99),
    ...spins('at_T', 199, inside),
    spin('at_T', T),
    buy('at_T', T, 19.99),
    ...spins('after_T', 199, inside),
    spin('after_T', T + 1),
    buy('after_T', inside, 19.99),
    ...spins('sum_10', 200, inside),
    ...[1, 2, 3, 4].map(() => buy('sum_10', inside, 2.5)),
    ...spins('sum_over_10', 200, inside),
    buy('sum_over_10', inside, 5),
    buy('sum_over_10', EDGE, 5.01),
    ...spins('sum_purchase_before_edge', 200, inside),
    buy('sum_purchase_before_edge', inside, 5),
    buy('sum_purchase_before_edge', EDGE - 1, 5.01),
    ...spins('spins_199', 199, EDGE),
    buy('spins_199', inside, 19.99),
    ...spins('no_purchase', 200, inside),
    // Only in_app_purchase.amount is summed, and only `spin` is counted.
    ...spins('wrong_names', 100, inside),
    ...spins('wrong_names', 100, inside).map((e) => ({ ...e, event: 'spin_bonus' })),
    buy('wrong_names', inside, 19.99),
    ...spins('amount_on_spin', 200, inside).map((e) => ({ ...e, amount: 50 })),
  ]
  return { events, members: ['at_T', 'edge_spin', 'sum_over_10'] }
}

/** The same semantics in plain TypeScript: a second, independent reading of the rule. */
function reference(events: readonly RawEvent[], T: number, minSpins: number, minAmount: number, windowMs: number): string[] {
  const b = windowMs / 120
  const first = Math.floor(T / b) - 119
  const totals = new Map<string, { spins: number; amount: number }>()
  for (const e of events) {
    if (e.ts > T || Math.floor(e.ts / b) < first) continue
    const t = totals.get(e.user_id) ?? { spins: 0, amount: 0 }
    if (e.event === 'spin') t.spins++
    if (e.event === 'in_app_purchase') t.amount += Number(e.amount)
    totals.set(e.user_id, t)
  }
  return [...totals]
    .filter(([, t]) => t.spins >= minSpins && t.amount > minAmount)
    .map(([u]) => u)
    .sort()
}

const tmp = tempDir()
afterAll(() => tmp.remove())

describe('slots oracle', () => {
  it.each([0, 30_000, B - 1])('finds exactly the boundary members at T = bucket start + %i ms', async (into) => {
    const T = K * B + into
    const { events, members } = cases(T)
    const file = writeTempNdjson(events)
    try {
      expect(await oracleMembers(file.path, T)).toEqual(members)
    } finally {
      file.remove()
    }
  })

  it('reads gzipped NDJSON and Parquet (ts as BIGINT or TIMESTAMP) the same way', async () => {
    const T = K * B + 30_000
    const { events, members } = cases(T)
    const gz = writeTempNdjson(events, 'events.ndjson.gz')
    expect(await oracleMembers(gz.path, T)).toEqual(members)
    const plain = writeTempNdjson(events)
    const db = await DuckDBInstance.create(':memory:')
    const c = await db.connect()
    const src = `read_json('${plain.path}', format = 'newline_delimited')`
    await c.run(`COPY (SELECT * FROM ${src}) TO '${join(tmp.dir, 'a.parquet')}' (FORMAT parquet)`)
    await c.run(`COPY (SELECT * REPLACE (epoch_ms(ts) AS ts) FROM ${src}) TO '${join(tmp.dir, 'b.parquet')}' (FORMAT parquet)`)
    c.closeSync()
    db.closeSync()
    expect(await oracleMembers(join(tmp.dir, 'a.parquet'), T)).toEqual(members)
    expect(await oracleMembers(join(tmp.dir, 'b.parquet'), T)).toEqual(members)
    gz.remove()
    plain.remove()
  })

  it('takes thresholds and the window as parameters', async () => {
    const T = K * B + 30_000
    const file = writeTempNdjson([spin('a', T - 3_600_000), buy('a', T, 1), spin('b', T - 1_000), buy('b', T, 0.5), spin('c', T)])
    try {
      expect(await oracleMembers(file.path, T, { spins: 1, amount: 0 })).toEqual(['a', 'b'])
      // A 1h window has 30 s buckets: the spin exactly 1h before T (mid-bucket) has slid out.
      expect(await oracleMembers(file.path, T, { spins: 1, amount: 0, windowMs: 3_600_000 })).toEqual(['b'])
      expect(await oracleMembers(file.path, T, { spins: 1, amount: 0.5 })).toEqual(['a'])
    } finally {
      file.remove()
    }
  })

  it('agrees with a plain TypeScript reading of the rule on generated data', async () => {
    const { events, end } = generateSlots({ users: 200, spins: 60_000, seed: 9, order: 'random' })
    const path = join(tmp.dir, 'gen.ndjson')
    await writeSlotsNdjson(path, { users: 200, spins: 60_000, seed: 9, order: 'random' })
    let nonEmpty = 0
    for (const [T, minSpins, minAmount, windowMs] of [
      [end, 200, 10, 7_200_000],
      [end - 1_799_999, 150, 5, 7_200_000],
      [end - 3_600_000, 50, 1, 3_600_000],
    ] as const) {
      const r = await oracleMembersTimed(path, T, { spins: minSpins, amount: minAmount, windowMs })
      expect(r.members).toEqual(reference(events, T, minSpins, minAmount, windowMs))
      expect(r.ms).toBeGreaterThan(0)
      if (r.members.length > 0) nonEmpty++
    }
    expect(nonEmpty).toBeGreaterThan(1)
  })
})
