import { DuckDBInstance } from '@duckdb/node-api'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { partFileName } from '../../src/warehouse/layout.ts'
import { inventory } from '../../src/warehouse/query/views.ts'
import { openWarehouse, type Warehouse } from '../../src/warehouse/query/index.ts'
import { tempRoot, writeEvents } from './fixtures.ts'

/*
 * The views never show an expired day, whether or not the sink has removed it yet: the files of
 * expired days are left out of what the views read, from the first query after 00:00 UTC on.
 */

const DAYS = ['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04', '2026-11-05']
let root: string
afterEach(() => void vi.useRealTimers())
afterAll(() => rmSync(root, { recursive: true, force: true }))

beforeAll(async () => {
  root = tempRoot()
  let offset = 0
  for (const dt of DAYS) {
    offset = await writeEvents(
      root,
      [
        { event: 'spin', user_id: 'a', ts: `${dt}T10:00:00Z` },
        { event: 'purchase', user_id: 'a', ts: `${dt}T11:00:00Z`, properties: { kind: 'sword', cost: 1 } },
        { event: 'join_guild', user_id: 'a', ts: `${dt}T12:00:00Z`, properties: { org: 'o' } },
      ],
      { startOffset: offset },
    )
  }
  // One segment change per day, in the stream's own dt= directories (as the sink writes them).
  const db = await DuckDBInstance.create(':memory:')
  const c = await db.connect()
  try {
    for (const [i, dt] of DAYS.entries()) {
      const dir = join(root, 'segment-changes', `dt=${dt}`)
      mkdirSync(dir, { recursive: true })
      const at = Date.parse(`${dt}T13:00:00Z`)
      await c.run(
        `COPY (SELECT 's' AS segment, 'default' AS tenant, 'a' AS user_id, 'entered' AS change, ${at}::BIGINT AS "at", '{}' AS "values", ${i + 1}::BIGINT AS version, 0 AS "partition", ${i}::BIGINT AS "offset") TO '${join(dir, partFileName(0, i, i))}' (FORMAT parquet)`,
      )
    }
  } finally {
    c.closeSync()
    db.closeSync()
  }
})

async function days(wh: Warehouse): Promise<Record<string, string[]>> {
  const col = async (sql: string) => (await wh.query(sql)).rows.map((r) => String(r[0]))
  return {
    events: await col(`SELECT DISTINCT CAST(dt AS VARCHAR) AS d FROM events ORDER BY d`),
    buys: await col(`SELECT DISTINCT CAST(dt AS VARCHAR) AS d FROM buys ORDER BY d`),
    social: await col(`SELECT DISTINCT CAST(dt AS VARCHAR) AS d FROM social ORDER BY d`),
    segment_changes: await col(`SELECT DISTINCT strftime("at", '%Y-%m-%d') AS d FROM segment_changes ORDER BY d`),
    profiles: await col(`SELECT event_count::VARCHAR FROM profiles`),
  }
}

const all = (list: string[]) => ({ events: list, buys: list, social: list, segment_changes: list, profiles: [String(3 * list.length)] })

describe('views with a partition expiration (WarehouseOptions.retentionDays)', () => {
  it('leave out expired days at once when 00:00 UTC passes, though the files are still on disk', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse('2026-11-04T23:59:59.999Z'))
    // A long refresh interval: the day turning over must rebuild the views by itself.
    const wh = await openWarehouse(root, { retentionDays: 3, refreshMs: 3_600_000 })
    try {
      expect(await days(wh)).toEqual(all(DAYS.slice(1)))
      vi.setSystemTime(Date.parse('2026-11-05T00:00:00.000Z'))
      expect(await days(wh)).toEqual(all(DAYS.slice(2)))
      expect(existsSync(join(root, 'events', 'dt=2026-11-02'))).toBe(true)
      vi.setSystemTime(Date.parse('2026-11-05T10:00:00.000Z'))
      expect(await days(wh)).toEqual(all(DAYS.slice(2)))
    } finally {
      wh.close()
    }
  })

  it('one day keeps only today; a far-off expiration keeps everything', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse('2026-11-05T10:00:00.000Z'))
    const today = await openWarehouse(root, { retentionDays: 1 })
    const long = await openWarehouse(root, { retentionDays: 3650 })
    try {
      expect(await days(today)).toEqual(all(['2026-11-05']))
      expect(await days(long)).toEqual(all(DAYS))
    } finally {
      today.close()
      long.close()
    }
  })

  it('without a retention every day on disk is shown, as before', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse('2026-12-31T10:00:00.000Z'))
    const wh = await openWarehouse(root)
    try {
      expect(await days(wh)).toEqual(all(DAYS))
    } finally {
      wh.close()
    }
  })

  it('a file takes its day from its own dt= directory under the warehouse; one outside any is kept', async () => {
    // The warehouse itself lies under a directory named like a day: that is not a file's day.
    const base = join(root, 'dt=2020-01-01', 'warehouse')
    const put = (dir: string, name: string) => {
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, name), '')
      return join(dir, name)
    }
    const spin = put(join(base, 'events', 'dt=2026-11-02', 'event=spin'), partFileName(0, 0, 0))
    const change = put(join(base, 'segment-changes', 'dt=2026-11-03'), partFileName(0, 0, 1))
    const loose = put(join(base, 'segment-changes'), partFileName(0, 0, 99))
    expect((await inventory(base, '2026-11-02')).events).toEqual({ spin: [spin] })
    expect((await inventory(base, '2026-11-03')).events).toEqual({})
    expect((await inventory(base, '2026-11-03')).segmentChanges).toEqual([loose, change])
    expect((await inventory(base, '2026-11-04')).segmentChanges).toEqual([loose])
  })
})
