import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { validateEvent, type TrackedEvent } from '../../src/events/index.ts'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { readRun, runEngineChild } from './crash-run.ts'
import { outcome } from './outcome.ts'

const RULES = `
streams:
  buy: { events: [in_app_purchase] }
segments:
  high_roller:
    when: count(spin, 20m) >= 30 and sum(in_app_purchase.amount, 20m) > 5
    keep: 2m
  idle_spender:
    when: sum(in_app_purchase.amount) > 0 and count(spin, 10m) < 3
triggers:
  big_buy:
    on: in_app_purchase
    when: amount > 9
    emit: player
    message: "Thanks for {amount}!"
`

/**
 * A slots-like stream: 400 users, 60,000 events over 2 hours, in time order; with `jitter`, each
 * event time moves by up to ± jitter, so that with allowed lateness events are held ahead of the
 * watermark across checkpoints (and re-read from the log after a kill).
 */
function workload(jitter = 0): TrackedEvent[] {
  let s = 42
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32
  const t0 = Date.UTC(2026, 10, 1, 10)
  const out: TrackedEvent[] = []
  for (let i = 0; i < 60_000; i++) {
    const user = String(1 + Math.floor(rnd() ** 2 * 400))
    const purchase = rnd() < 0.02
    const ts = t0 + i * 120 + Math.round((rnd() * 2 - 1) * jitter)
    const raw = purchase ? { event: 'in_app_purchase', user_id: user, ts, amount: [0.99, 4.99, 9.99, 19.99][Math.floor(rnd() * 4)] } : { event: 'spin', user_id: user, ts, bet: 1 }
    // Received as it happened: the collector never lets an event time pass its receive time.
    const v = validateEvent({ ...raw, event_id: `e${i}` }, { receivedAt: Math.max(t0, ts) })
    if (!v.ok) throw new Error(v.error.reason)
    out.push(v.event)
  }
  return out
}

const outcomeOf = (dir: string) => readRun(dir, outcome)

describe('engine exactly-once across SIGKILL', () => {
  const root = mkdtempSync(join(tmpdir(), 'tagstream-engine-crash-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it.each([
    ['in time order, no lateness', 0, 0],
    ['out of order by up to 60 s, 90 s of allowed lateness (held events)', 60_000, 90_000],
  ])('ends with the same state and the same change stream as an uninterrupted run: %s', async (_name, jitter, lateness) => {
    const dirOf = (d: string) => join(root, `${lateness}-${d}`)
    const rulesPath = join(root, 'rules.yaml')
    writeFileSync(rulesPath, RULES)
    const base = dirOf('base')
    const { log, partitions } = await openEventLog(join(base, 'log'), { partitions: 4 })
    const events = workload(jitter)
    for (let i = 0; i < events.length; i += 1_000) await appendEvents(log, events.slice(i, i + 1_000), partitions)
    await log.close()
    const calm = dirOf('calm')
    const crashy = dirOf('crashy')
    cpSync(base, calm, { recursive: true })
    cpSync(base, crashy, { recursive: true })

    expect(await runEngineChild(calm, rulesPath, lateness)).toBe('done')
    let kills = 0
    for (const share of [0.15, 0.35, 0.6, 0.85]) if ((await runEngineChild(crashy, rulesPath, lateness, Math.round(share * events.length))) === 'killed') kills++
    expect(await runEngineChild(crashy, rulesPath, lateness)).toBe('done')
    expect(kills).toBeGreaterThanOrEqual(2)

    const a = await outcomeOf(calm)
    const b = await outcomeOf(crashy)
    const total = a.changes.flat().length
    expect(total).toBeGreaterThan(50)
    expect(a.notifications.flat().length).toBeGreaterThan(50)
    expect(b.changes).toEqual(a.changes)
    expect(b.notifications).toEqual(a.notifications)
    // The player notifications and the event stream are outputs like the others: none lost, none twice.
    expect(a.players.flat().length).toBe(a.notifications.flat().length)
    // Every purchase applied once (with lateness, the last ones are still held when the run ends).
    const purchases = new Set(events.filter((e) => e.event === 'in_app_purchase').map((e) => e.event_id))
    const streamed = a.buys.flat().map((v) => (JSON.parse(v) as { event_id: string }).event_id)
    expect(new Set(streamed).size).toBe(streamed.length)
    expect(streamed.every((id) => purchases.has(id))).toBe(true)
    if (lateness === 0) expect(streamed.length).toBe(purchases.size)
    else expect(streamed.length).toBeGreaterThan(purchases.size * 0.95)
    expect(b.players).toEqual(a.players)
    expect(b.buys).toEqual(a.buys)
    expect(b.users).toEqual(a.users)
    expect(b.checkpoints).toEqual(a.checkpoints)
    // Per user, versions run 1, 2, 3… with no gap or repeat.
    const versions = new Map<string, number>()
    for (const c of a.changes.flat().map((s) => JSON.parse(s) as { user_id: string; version: number })) {
      expect(c.version).toBe((versions.get(c.user_id) ?? 0) + 1)
      versions.set(c.user_id, c.version)
    }
  })
})
