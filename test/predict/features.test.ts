import { DuckDBInstance } from '@duckdb/node-api'
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { planCutoffs, readPairs, samplePairs, type Dataset } from '../../src/predict/dataset.ts'
import { featureTables } from '../../src/predict/feature-tables.ts'
import { featureNames } from '../../src/predict/features.ts'
import { PREDICT_DEFAULTS, type PredictOptions } from '../../src/predict/predict-options.ts'
import { mulberry32 } from '../support/prng.ts'
import { tempRoot, writeEvents, writeSegmentChanges, type FixtureEvent, type FixtureSegmentChange } from '../warehouse/fixtures.ts'

/*
 * The features and labels of docs/predictions.md ("Features", "Labels") computed a second way: a
 * plain reading of the definitions over the generated events, sharing no code with the SQL, checked
 * for every (user, cutoff) pair of every tenant on seeded histories.
 */

const DAY = 86_400_000
const BASE_DAY = 20_300 // 2025-07-30
const DAYS = 60
const AS_OF = (BASE_DAY + DAYS) * DAY + 5 * 3_600_000
const O: PredictOptions = { ...PREDICT_DEFAULTS, maxTrainRows: 1e9, maxEvalRows: 1e9 }
const PURCHASES = new Set(O.purchaseEvents)

interface Ev {
  tenant: string
  user: string
  event: string
  ts: number
  amount?: number
  wealth?: number
}

function generate(seed: number): { events: Ev[]; changes: Array<{ tenant: string; user: string; at: number }> } {
  const rnd = mulberry32(seed)
  const events: Ev[] = []
  const changes: Array<{ tenant: string; user: string; at: number }> = []
  const used = new Set<string>()
  for (const tenant of ['t1', 't2']) {
    for (let u = 0; u < 14; u++) {
      const user = `u${u}`
      const game = u % 2 === 0
      const start = u === 0 ? 0 : Math.floor(rnd() * 30)
      const stop = start + Math.floor(rnd() * 35)
      const rate = 0.2 + rnd() * 0.7
      for (let d = start; d <= Math.min(stop, DAYS); d++) {
        if (rnd() > rate) continue
        const n = 1 + Math.floor(rnd() * 5)
        for (let i = 0; i < n; i++) {
          // Some times sit on a day's first or last millisecond, where a day boundary could go wrong.
          const edge = rnd()
          const offset = edge < 0.05 ? 0 : edge < 0.1 ? DAY - 1 : Math.floor(rnd() * DAY)
          const ts = (BASE_DAY + d) * DAY + offset
          const key = `${tenant}/${user}/${ts}`
          if (used.has(key)) continue
          used.add(key)
          const kind = rnd()
          const event = kind < 0.1 ? 'purchase' : kind < 0.13 ? 'in_app_purchase' : kind < 0.5 ? 'spin' : kind < 0.7 ? 'login' : kind < 0.85 ? 'level_up' : kind < 0.93 ? 'bonus' : 'visit'
          const e: Ev = { tenant, user, event, ts }
          if (PURCHASES.has(event) && rnd() < 0.9) e.amount = Math.round(rnd() * 5000) / 100
          if (game && rnd() < 0.8) e.wealth = Math.round(rnd() * 100_000) / 10
          events.push(e)
        }
        if (rnd() < 0.1) changes.push({ tenant, user, at: (BASE_DAY + d) * DAY + Math.floor(rnd() * DAY) })
      }
    }
  }
  return { events, changes }
}

const dayOf = (ts: number) => Math.floor(ts / DAY)
const ln1p = (x: number) => Math.log(1 + x)

/** Sessions by the gap rule (no markers, no session_id in these events): the days they start on. */
function sessionDays(evs: Ev[]): number[] {
  const sorted = [...evs].sort((a, b) => a.ts - b.ts)
  const out: number[] = []
  let prev = -Infinity
  for (const e of sorted) {
    if (e.ts - prev > 30 * 60_000) out.push(dayOf(e.ts))
    prev = e.ts
  }
  return out
}

/** The tenant's most common non-purchase events, ties by name. */
function topEvents(evs: Ev[]): string[] {
  const n = new Map<string, number>()
  for (const e of evs) if (!PURCHASES.has(e.event)) n.set(e.event, (n.get(e.event) ?? 0) + 1)
  return [...n]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, O.mixEvents)
    .map(([e]) => e)
}

function lastWealth(evs: Ev[], beforeDay: number): number | null {
  let best: Ev | null = null
  for (const e of evs) if (e.wealth !== undefined && dayOf(e.ts) < beforeDay && (best === null || e.ts > best.ts)) best = e
  return best?.wealth ?? null
}

/** One pair's features (featureNames order) and labels, straight from the definitions. */
function reference(evs: Ev[], entries: number[], c: number, mix: string[], horizon: number): { f: number[]; y: [number, number, number | null] } {
  const inDays = (e: Ev, from: number, to: number) => dayOf(e.ts) >= from && dayOf(e.ts) < to
  const before = evs.filter((e) => dayOf(e.ts) < c)
  const w7 = before.filter((e) => inDays(e, c - 7, c))
  const w28 = before.filter((e) => inDays(e, c - 28, c))
  const days = (list: Ev[]) => new Set(list.map((e) => dayOf(e.ts))).size
  const buys = (list: Ev[]) => list.filter((e) => PURCHASES.has(e.event))
  const spend = (list: Ev[]) => buys(list).reduce((s, e) => s + (e.amount ?? 0), 0)
  const sessions = sessionDays(evs)
  const lastBuy = Math.max(...buys(before).map((e) => dayOf(e.ts)))
  const wealth = lastWealth(evs, c)
  const wealth7 = lastWealth(evs, c - 7)
  const wealth28 = lastWealth(evs, c - 28)
  const f = [
    c - Math.max(...before.map((e) => dayOf(e.ts))),
    days(w7),
    days(w28),
    ln1p(w7.length),
    ln1p(w28.length),
    w7.length / (w28.length / 4 + 1),
    ln1p(sessions.filter((d) => d >= c - 7 && d < c).length),
    ln1p(sessions.filter((d) => d >= c - 28 && d < c).length),
    ln1p(buys(w7).length),
    ln1p(buys(w28).length),
    ln1p(buys(before).length),
    ln1p(spend(w28)),
    ln1p(spend(before)),
    Number.isFinite(lastBuy) ? Math.min(90, c - lastBuy) : 90,
    Math.min(90, c - Math.min(...before.map((e) => dayOf(e.ts)))),
    ln1p(entries.filter((d) => d >= c - 7 && d < c).length),
    wealth === null ? 0 : 1,
    wealth ?? 0,
    wealth !== null && wealth7 !== null ? wealth - wealth7 : 0,
    wealth !== null && wealth7 !== null ? Math.log(1 + Math.max(wealth, 0)) - Math.log(1 + Math.max(wealth7, 0)) : 0,
    wealth !== null && wealth28 !== null ? Math.log(1 + Math.max(wealth, 0)) - Math.log(1 + Math.max(wealth28, 0)) : 0,
    ...Array.from({ length: O.mixEvents }, (_, k) => (mix[k] === undefined || w28.length === 0 ? 0 : w28.filter((e) => e.event === mix[k]).length / w28.length)),
  ]
  const next7 = evs.filter((e) => inDays(e, c, c + 7))
  return { f, y: [buys(next7).length > 0 ? 1 : 0, next7.length === 0 ? 1 : 0, lastWealth(evs, c + horizon)] }
}

describe('prediction features and labels against a reference', () => {
  let root: string
  let data: ReturnType<typeof generate>

  beforeAll(async () => {
    root = tempRoot()
    data = generate(21)
    const fixture: FixtureEvent[] = data.events.map((e) => ({
      event: e.event,
      user_id: e.user,
      tenant: e.tenant,
      ts: new Date(e.ts).toISOString(),
      properties: { ...(e.amount === undefined ? {} : { amount: e.amount }), ...(e.wealth === undefined ? {} : { player_wealth: e.wealth }) },
    }))
    await writeEvents(root, fixture)
    const changes: FixtureSegmentChange[] = data.changes.map((c) => ({ segment: 's', user_id: c.user, tenant: c.tenant, change: 'entered', at: new Date(c.at).toISOString() }))
    await writeSegmentChanges(root, changes)
  })
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  for (const horizon of [7, 30]) {
    it(`every pair's features and ${horizon}-day labels match, both tenants`, async () => {
      const db = await DuckDBInstance.create(':memory:')
      const conn = await db.connect()
      try {
        const mixes = await featureTables(conn, root, AS_OF, O, null)
        let compared = 0
        for (const tenant of ['t1', 't2']) {
          const evs = data.events.filter((e) => e.tenant === tenant && e.ts < AS_OF)
          const mix = topEvents(evs)
          expect(mixes.get(tenant)).toEqual(mix)
          const firstDay = Math.min(...evs.map((e) => dayOf(e.ts)))
          const plan = planCutoffs(firstDay, dayOf(AS_OF), horizon, O)!
          await samplePairs(conn, tenant, plan, O)
          const names = featureNames(mix, O.mixEvents)
          const ds: Dataset = await readPairs(conn, tenant, names.length, O, horizon)
          const byUser = new Map<string, Ev[]>()
          for (const e of evs) byUser.set(e.user, [...(byUser.get(e.user) ?? []), e])
          const expected = new Map<string, ReturnType<typeof reference>>()
          for (const [user, list] of byUser) {
            const entries = data.changes.filter((c) => c.tenant === tenant && c.user === user && c.at < AS_OF).map((c) => dayOf(c.at))
            for (let c = plan.trainFrom; c <= plan.evalTo; c++) {
              if (!list.some((e) => dayOf(e.ts) >= c - 28 && dayOf(e.ts) < c)) continue
              expected.set(`${user}@${c}`, reference(list, entries, c, mix, horizon))
            }
          }
          expect(ds.rows).toBe(expected.size)
          for (let r = 0; r < ds.rows; r++) {
            const want = expected.get(`${ds.users[r]}@${ds.cutoffs[r]}`)
            expect(want, `${ds.users[r]}@${ds.cutoffs[r]}`).toBeDefined()
            expect(ds.eval[r]).toBe(ds.cutoffs[r]! >= plan.evalFrom ? 1 : 0)
            for (let i = 0; i < names.length; i++) expect(ds.features[i]![r], `${names[i]} of ${ds.users[r]}@${ds.cutoffs[r]}`).toBeCloseTo(want!.f[i]!, 9)
            expect(ds.labels!.purchase[r]).toBe(want!.y[0])
            expect(ds.labels!.churn[r]).toBe(want!.y[1])
            if (want!.y[2] === null) expect(Number.isNaN(ds.labels!.wealth[r])).toBe(true)
            else expect(ds.labels!.wealth[r]).toBeCloseTo(want!.y[2], 9)
            compared++
          }
        }
        expect(compared).toBeGreaterThan(300)
      } finally {
        conn.closeSync()
        db.closeSync()
      }
    })
  }
})
