import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { validateEvent, type TrackedEvent } from '../../src/events/index.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { dtOf } from '../../src/warehouse/layout.ts'
import { maintain, runSinkOnce } from '../../src/warehouse/sink/index.ts'
import { appendAll, fingerprint, query } from './sink-helpers.ts'

const tmp = mkdtempSync(join(tmpdir(), 'tagstream-maint-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const DAY = 86_400_000
// Noon of past days; today's first moments, so today's events are never in the future.
const noon = (daysAgo: number) => Math.floor(Date.now() / DAY) * DAY - daysAgo * DAY + (daysAgo === 0 ? 0 : 12 * 3_600_000)

function spins(daysAgo: number, n: number): TrackedEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const v = validateEvent({ event: 'spin', user_id: `u${i % 5}`, ts: noon(daysAgo) + i, bet: i }, { receivedAt: Date.now() })
    if (!v.ok) throw new Error(v.error.reason)
    return v.event
  })
}

const files = (dir: string): string[] => readdirSync(dir).filter((n) => n.endsWith('.parquet'))

describe('warehouse maintenance', () => {
  it('drops days beyond retention, compacts finished days of events and streams, and leaves today alone', async () => {
    const dir = join(tmp, 'a')
    const root = join(dir, 'wh')
    const { log } = await openEventLog(join(dir, 'log'), { partitions: 1 })
    // Three small flushes per day, so each day has three part files per event and stream.
    for (let round = 0; round < 3; round++) {
      await appendAll(log, [...spins(5, 10), ...spins(1, 10), ...spins(0, 10)], 1)
      const at = [noon(5), noon(1), noon(0)]
      await log.append(
        TOPICS.segmentChanges,
        0,
        at.map((t, i) => ({
          key: `default:u${i}`,
          timestamp: t,
          value: Buffer.from(JSON.stringify({ segment: 's', tenant: 'default', user_id: `u${i}`, change: 'entered', at: t, values: {}, version: round + 1 })),
        })),
      )
      await runSinkOnce(log, root)
    }
    await log.close()
    const [old, yesterday, today] = [dtOf(noon(5)), dtOf(noon(1)), dtOf(noon(0))]
    const eventsDir = (dt: string) => join(root, 'events', `dt=${dt}`, 'event=spin')
    const changesDir = (dt: string) => join(root, 'segment-changes', `dt=${dt}`)
    expect(files(eventsDir(yesterday))).toHaveLength(3)
    expect(files(changesDir(yesterday))).toHaveLength(3)
    const before = await fingerprint(root)

    const result = await maintain(root, 3)
    expect(result.dropped).toEqual([old])
    expect(result.compacted).toEqual([yesterday])
    expect(() => readdirSync(eventsDir(old))).toThrow()
    expect(() => readdirSync(changesDir(old))).toThrow()
    expect(files(eventsDir(yesterday))).toHaveLength(1)
    expect(files(changesDir(yesterday))).toHaveLength(1)
    expect(files(eventsDir(today))).toHaveLength(3)
    expect(files(changesDir(today))).toHaveLength(3)

    // The rows of the days kept are all still there, once.
    const rows = await query(root, (from) => `SELECT count(*)::INTEGER AS n, count(DISTINCT "offset")::INTEGER AS d FROM ${from}`)
    expect(rows[0]).toEqual({ n: 60, d: 60 })
    expect(before.rows).toBe(90)
    const changes = await query(root, () => `SELECT count(*)::INTEGER AS n FROM read_parquet('${root}/segment-changes/**/*.parquet')`)
    expect(changes[0]).toEqual({ n: 6 })
    // A second pass has nothing left to do.
    expect(await maintain(root, 3)).toEqual({ dropped: [], compacted: [] })
  })
})
