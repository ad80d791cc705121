import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { validateEvent, type TrackedEvent } from '../../src/events/index.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { dtOf } from '../../src/warehouse/layout.ts'
import { runSinkOnce } from '../../src/warehouse/sink/index.ts'
import { auth, startTestServer } from '../api/harness.ts'
import { appendAll } from './sink-helpers.ts'

/*
 * `tagstream serve` started on a warehouse holding days that expired while it was down: the
 * first query already sees none of them (the issue: they used to show for up to an hour).
 */

const DAY = 86_400_000
const dataDir = mkdtempSync(join(tmpdir(), 'tagstream-retention-serve-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

// Noon of past days; today's first moments, so today's events are never in the future.
const at = (daysAgo: number) => Math.floor(Date.now() / DAY) * DAY - daysAgo * DAY + (daysAgo === 0 ? 0 : 12 * 3_600_000)
const AGES = [6, 5, 4, 3, 2, 1, 0]

function spins(daysAgo: number): TrackedEvent[] {
  return Array.from({ length: 5 }, (_, i) => {
    const v = validateEvent({ event: 'spin', user_id: `u${i}`, ts: at(daysAgo) + i }, { receivedAt: Date.now() })
    if (!v.ok) throw new Error(v.error.reason)
    return v.event
  })
}

describe('tagstream serve on a warehouse with expired days', () => {
  it('drops them before it starts, so no query shows them', async ({ skip }) => {
    // The days are computed from today's date once: a run across 00:00 UTC would shift them.
    if (DAY - (Date.now() % DAY) < 120_000) skip()
    const root = join(dataDir, 'warehouse')
    // The warehouse a previous run left: the sink committed what it wrote, so the new sink keeps it.
    const { log, partitions } = await openEventLog(join(dataDir, 'log'), { partitions: 4 })
    await appendAll(log, AGES.flatMap(spins), partitions)
    await log.append(
      TOPICS.segmentChanges,
      0,
      AGES.map((age, i) => ({
        key: `default:u${i}`,
        timestamp: at(age),
        value: Buffer.from(JSON.stringify({ segment: 's', tenant: 'default', user_id: `u${i}`, change: 'entered', at: at(age), values: {}, version: 1 })),
      })),
    )
    await runSinkOnce(log, root)
    await log.close()
    const day = (age: number) => dtOf(at(age))
    for (const age of AGES) expect(existsSync(join(root, 'events', `dt=${day(age)}`))).toBe(true)

    const s = await startTestServer({ dataDir, clockTickMs: 0, retentionDays: 3 })
    try {
      // Gone from disk by the time the server is up, for the events and the streams alike.
      for (const age of AGES) {
        expect(existsSync(join(root, 'events', `dt=${day(age)}`)), `events of ${day(age)}`).toBe(age < 3)
        expect(existsSync(join(root, 'segment-changes', `dt=${day(age)}`)), `segment changes of ${day(age)}`).toBe(age < 3)
      }
      const sql = async (text: string): Promise<unknown[][]> => {
        const r = await fetch(`${s.url}/v1/query`, { method: 'POST', headers: { ...auth(s.keys.operator), 'content-type': 'application/json' }, body: JSON.stringify({ sql: text }) })
        expect(r.status).toBe(200)
        return ((await r.json()) as { rows: unknown[][] }).rows
      }
      // The very first query.
      expect(await sql(`SELECT CAST(dt AS VARCHAR) AS d, count(*)::INTEGER FROM events GROUP BY d ORDER BY d`)).toEqual([2, 1, 0].map((age) => [day(age), 5]))
      expect(await sql(`SELECT strftime("at", '%Y-%m-%d') AS d FROM segment_changes ORDER BY d`)).toEqual([2, 1, 0].map((age) => [day(age)]))
    } finally {
      await s.close()
    }
  })
})
