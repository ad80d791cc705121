import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { replayFile } from '../../src/cli/replay.ts'
import { writeSlotsNdjson } from '../../src/sim/index.ts'
import { oracleMembers } from '../support/slots-oracle.ts'
import { tempDir } from '../support/ndjson.ts'

const SEED_RULE = 'count(spin, 2h) >= 200 and sum(in_app_purchase.amount, 2h) > 10'
const MIN = 60_000
const byString = (ids: string[]) => [...ids].sort()

/**
 * Seed 000's workload (5,000 users, top 20% unlimited spinners, top 2% repeat buyers, 3 hours of
 * event times) through the real replay path, checked against a hand-written DuckDB query.
 */
describe('engine against an independent DuckDB oracle (seed 000 workload)', () => {
  const tmp = tempDir()
  afterAll(() => tmp.remove())

  const rules = (keep: string | null) => {
    const path = join(tmp.dir, `rules-${keep ?? 'none'}.yaml`)
    writeFileSync(path, `segments:\n  high_roller:\n    when: ${SEED_RULE}\n${keep ? `    keep: ${keep}\n` : ''}`)
    return path
  }

  it.each(['time', 'random'] as const)('gives identical final membership, events in %s order', async (order) => {
    const input = join(tmp.dir, `slots-${order}.ndjson`)
    const { end } = await writeSlotsNdjson(input, { users: 5_000, spins: 2_000_000, seed: 7, order })
    for (const asOf of [end, end - 37 * MIN - 123]) {
      const engine = await replayFile(input, rules(null), { partitions: 8, asOf })
      const expected = await oracleMembers(input, asOf)
      expect(engine.rejected).toBe(0)
      expect(expected.length).toBeGreaterThan(50)
      expect(byString(engine.members.high_roller!)).toEqual(expected)
    }
  })

  it('holds tags for keep: 3m exactly as the rule says (events in time order)', async () => {
    const input = join(tmp.dir, 'slots-keep.ndjson')
    const { end } = await writeSlotsNdjson(input, { users: 5_000, spins: 2_000_000, seed: 11, order: 'time' })
    const engine = await replayFile(input, rules('3m'), { partitions: 8, asOf: end })
    // A tag stays while the rule held at any moment of the last 3 minutes. The rule only grows within
    // a 1-minute bucket, so it suffices to look at the end of each bucket and at T itself.
    const union = new Set<string>()
    for (const t of [end - 2 * MIN - 1, end - MIN - 1, end - 1, end]) for (const id of await oracleMembers(input, t)) union.add(id)
    const plain = await oracleMembers(input, end)
    expect(byString(engine.members.high_roller!)).toEqual(byString([...union]))
    expect(union.size).toBeGreaterThan(plain.length)
  })
})
