import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { engineOptions } from '../../src/engine/engine-options.ts'
import { prepareRules } from '../../src/engine/engine-rules.ts'
import { Replay } from '../../src/engine/replay.ts'
import { parseRulesYaml } from '../../src/rules/index.ts'
import { validateEvent, type TrackedEvent } from '../../src/events/index.ts'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { planSlots, slotsEventAt } from '../../src/sim/index.ts'
import { ruleToSql } from '../../src/warehouse/backfill/rule-sql.ts'
import { openWarehouse, type Warehouse } from '../../src/warehouse/query/index.ts'
import { runSinkOnce } from '../../src/warehouse/sink/index.ts'

const HOUR = 3_600_000
const RULES = `traits:
  last_machine: { type: string, from: spin, property: machine }
  last_bet: { type: number, property: bet }
  last_item: { type: string, property: item }
  spent: { compute: sum(in_app_purchase.amount) }
segments:
  declared_traits:
    when: last_machine = "dragon_gold" and last_bet >= 20 or last_item = "coins" and spent < 8
  high_roller:
    when: count(spin, 2h) >= 200 and sum(in_app_purchase.amount, 2h) > 10
  buyer_lifetime:
    when: sum(in_app_purchase.amount) >= 5 and not count(spin, 30m) >= 40
  varied:
    when: distinct(spin.machine, 10m) >= 4 and max(spin.bet, 10m) = 100
  coins_buyers:
    when: count(in_app_purchase where item = "coins" and amount > 1, 3h) >= 1 and min(in_app_purchase.amount) < 5
  average:
    when: avg(spin.bet, 2h) > 52 and event_count >= 10
  quiet:
    when: since(last_seen) > 1m and total_purchases > 0
  machine_in:
    when: count(spin where machine in ["dragon_gold", "diamond_rush"] and bet != 7, 1h) > 30
`

/**
 * Segment backfill: the same rule compiled to SQL over the warehouse gives the same members as the
 * streaming engine over the same events (seed 000's slots workload).
 */
describe('segment backfill from the warehouse', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-backfill-'))
  const options = engineOptions()
  const def = parseRulesYaml(RULES)
  let warehouse: Warehouse
  let replay: Replay
  let asOf = 0

  beforeAll(async () => {
    const plan = planSlots({ users: 1_000, spins: 400_000, seed: 3 })
    asOf = plan.options.end - 17 * 60_000 - 321
    const events: TrackedEvent[] = []
    for (let i = 0; i < plan.count; i++) {
      const v = validateEvent(slotsEventAt(plan, i), { receivedAt: plan.options.end, makeId: () => `e${i}` })
      if (v.ok) events.push(v.event)
    }
    const { log, partitions } = await openEventLog(join(dir, 'log'), { partitions: 4 })
    for (let i = 0; i < events.length; i += 20_000) await appendEvents(log, events.slice(i, i + 20_000), partitions)
    await runSinkOnce(log, join(dir, 'warehouse'))
    await log.close()
    replay = new Replay(prepareRules(def, options), options, partitions, asOf)
    for (const e of events) replay.processEvent(e)
    warehouse = await openWarehouse(join(dir, 'warehouse'))
  }, 120_000)
  afterAll(() => {
    warehouse?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it.each(parseRulesYaml(RULES).segments.map((s) => [s.name]))("%s: SQL members equal the engine's", async (name) => {
    const result = replay.finish()
    const seg = def.segments.find((s) => s.name === name)!
    const sql = ruleToSql(seg.when, asOf, options, def.traits)
    const rows = (await warehouse.query(sql, { maxRows: 100_000, timeoutMs: 60_000 })).rows.map((r) => String(r[1]))
    const engine = result.members[name]!
    expect(rows.sort()).toEqual([...engine].sort())
    // Every rule here selects some users but not all: an empty or full answer would prove little.
    expect(engine.length).toBeGreaterThan(0)
    expect(engine.length).toBeLessThan(1_000)
    void HOUR
  })
})
