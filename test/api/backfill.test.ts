/**
 * Backfill on creation (docs/tenancy.md), over HTTP on `serve` with its warehouse: a tenant's
 * segment added at run time starts with the members its rule has over history, equal to `tagstream
 * warehouse backfill` (the rule's SQL over the warehouse) at the same time, and goes on live with no
 * gap and nothing counted twice.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { engineOptions } from '../../src/engine/engine-options.ts'
import { partitionOfUser } from '../../src/events/partition.ts'
import { parseExpression, TraitCatalog } from '../../src/rules/index.ts'
import { ruleToSql } from '../../src/warehouse/backfill/rule-sql.ts'
import { auth, sqlWhen, startTestServer, type TestServer } from './harness.ts'
import { until } from '../support/until.ts'

const DAY = 86_400_000
const T0 = Date.UTC(2026, 10, 20, 12)
const root = mkdtempSync(join(tmpdir(), 'tagstream-backfill-api-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const post = (s: TestServer, key: string, events: unknown[]) =>
  fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: JSON.stringify(events) })
const put = (s: TestServer, name: string, when: string) =>
  fetch(`${s.url}/v1/segments/${name}`, { method: 'PUT', headers: { ...auth(s.keys.acmeAdmin), 'content-type': 'application/json' }, body: JSON.stringify({ when }) })

/** Purchases over 12 days before T0: some users' totals cross the bars only with their older days. */
function purchases(days: readonly number[]): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = []
  for (let i = 0; i < 40; i++) {
    for (const d of days) {
      if ((i + d) % 3 === 0) continue
      out.push({ event: 'purchase', user_id: `u${i}`, ts: T0 - d * DAY + i * 1000, amount: ((i * 7 + d * 13) % 29) + 1, event_id: `p-${i}-${d}` })
    }
  }
  return out
}

/** One event at T0 in every partition, so every partition's clock reads T0 when the change comes. */
function ticks(tenant: string, partitions: number): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = []
  const seen = new Set<number>()
  for (let k = 0; seen.size < partitions; k++) {
    const p = partitionOfUser(tenant, `tick-${k}`, partitions)
    if (seen.has(p)) continue
    seen.add(p)
    out.push({ event: 'tick', user_id: `tick-${k}`, ts: T0, event_id: `tick-${k}` })
  }
  return out
}

/** The members `tagstream warehouse backfill` gives for a rule at T0: its SQL over the warehouse, for acme. */
async function warehouseMembers(s: TestServer, when: string, total: number): Promise<string[]> {
  await sqlWhen(s, "SELECT count(*) FROM events WHERE tenant = 'acme'", (rows) => Number(rows[0]?.[0]) === total)
  const sql = ruleToSql(parseExpression({ text: when, path: 'when', segment: 'x' }, 'segment', new TraitCatalog([])), T0, engineOptions())
  const rows = await sqlWhen(s, `SELECT user_id FROM (${sql}) WHERE tenant = 'acme' ORDER BY user_id`, () => true)
  return rows.map((r) => String(r[0])).sort()
}

async function members(s: TestServer, key: string, segment: string): Promise<string[]> {
  const body = (await (await fetch(`${s.url}/v1/segments/${segment}/members?limit=1000`, { headers: auth(key) })).json()) as { members: Array<{ user_id: string }> }
  return body.members.map((m) => m.user_id).sort()
}

describe('a segment added at run time', () => {
  it('starts with the members its rule has over history (warehouse, then log), as the warehouse backfill says, and goes on live', async () => {
    mkdirSync(join(root, 'serve'))
    const s = await startTestServer({ dataDir: join(root, 'serve'), clockTickMs: 0, partitions: 4 })
    const { acme, write, read } = s.keys
    try {
      // Older days first, into the warehouse; the last days may still be only in the log when the change comes.
      const older = purchases([12, 9, 6])
      const recent = purchases([4, 2, 1])
      expect((await post(s, acme, older)).status).toBe(200)
      expect((await post(s, write, older)).status).toBe(200)
      await sqlWhen(s, "SELECT count(*) FROM events WHERE tenant = 'acme'", (rows) => Number(rows[0]?.[0]) === older.length)
      const tick = ticks('acme', 4)
      expect((await post(s, acme, [...recent, ...tick])).status).toBe(200)
      expect((await post(s, write, recent)).status).toBe(200)
      const total = older.length + recent.length + tick.length
      await until('the engine to read every event', () => s.ctx.engine.snapshot().processed >= total + older.length + recent.length)

      // A 7-day window (only some of the history) and a lifetime aggregate, both new to acme's rules.
      const week = 'sum(purchase.amount, 7d) >= 60'
      const lifetime = 'count(purchase) >= 5'
      const r1 = await put(s, 'big_week', week)
      expect(r1.status).toBe(200)
      const r2 = await put(s, 'regular', lifetime)
      expect(r2.status).toBe(200)

      const wantWeek = await warehouseMembers(s, week, total)
      const wantLifetime = await warehouseMembers(s, lifetime, total)
      expect(wantWeek.length).toBeGreaterThan(3)
      expect(wantWeek.length).toBeLessThan(40)
      expect(wantLifetime.length).toBeGreaterThan(3)
      expect(await members(s, acme, 'big_week')).toEqual(wantWeek)
      expect(await members(s, acme, 'regular')).toEqual(wantLifetime)
      expect((await r1.json()) as { size: number }).toMatchObject({ size: wantWeek.length })
      // Both sources fed it: the warehouse the older days, the log what the sink had not committed.
      const status = ((await (await fetch(`${s.url}/v1/rules`, { headers: auth(acme) })).json()) as { backfill: { state: string; rows: { warehouse: number; log: number }; users: number } }).backfill
      expect(status).toMatchObject({ state: 'done', users: 40 })
      expect(status.rows.warehouse).toBeGreaterThan(0)
      // The other tenant, with the same purchases, has no such segments.
      expect((await fetch(`${s.url}/v1/segments/big_week/members`, { headers: auth(read) })).status).toBe(404)

      // Live from here: one purchase on top of a non-member's history, counted once.
      const outsider = Array.from({ length: 40 }, (_, i) => `u${i}`).find((u) => !wantWeek.includes(u))!
      const profile = async () => (await (await fetch(`${s.url}/v1/profiles/${outsider}`, { headers: auth(acme) })).json()) as { metrics: Record<string, number>; segments: Array<{ segment: string }> }
      const before = (await profile()).metrics['sum(purchase.amount, 7d)']!
      expect(before).toBeGreaterThan(0)
      expect((await post(s, acme, [{ event: 'purchase', user_id: outsider, ts: T0 + 1000, amount: 60 }])).status).toBe(200)
      const after = await until('the purchase to be counted', async () => {
        const p = await profile()
        return p.metrics['sum(purchase.amount, 7d)'] !== before ? p : null
      })
      expect(after.metrics['sum(purchase.amount, 7d)']).toBe(before + 60)
      expect(after.segments.map((x) => x.segment)).toContain('big_week')
    } finally {
      await s.close()
    }
  })
})
