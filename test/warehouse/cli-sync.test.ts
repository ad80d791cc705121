import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { buildProgram } from '../../src/cli/main.ts'
import { validateEvent, type TrackedEvent } from '../../src/events/index.ts'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { openEventLog } from '../../src/log/open-log.ts'

describe('tagstream warehouse sync', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-wh-cli-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('writes the log to Parquet once, and a second run writes nothing', async () => {
    const { log, partitions } = await openEventLog(join(dir, 'log'), { partitions: 4 })
    const t0 = Date.UTC(2026, 10, 1, 23, 59)
    const events: TrackedEvent[] = []
    for (let i = 0; i < 500; i++) {
      const v = validateEvent({ event: i % 2 ? 'spin' : 'purchase', user_id: `u${i % 37}`, ts: t0 + i * 1000, amount: i }, { receivedAt: t0 + i * 1000 })
      if (v.ok) events.push(v.event)
    }
    await appendEvents(log, events, partitions)
    await log.close()
    const out: string[] = []
    const spy = vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s))
    try {
      await buildProgram().parseAsync(['node', 'tagstream', '--data', dir, 'warehouse', 'sync'])
      await buildProgram().parseAsync(['node', 'tagstream', '--data', dir, 'warehouse', 'sync'])
    } finally {
      spy.mockRestore()
    }
    expect(JSON.parse(out[0]!)).toMatchObject({ rows: 500 })
    expect(JSON.parse(out[1]!)).toMatchObject({ rows: 0 })
    const db = await DuckDBInstance.create(':memory:')
    const c = await db.connect()
    const r = await c.runAndReadAll(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT dt)::INTEGER AS days, sum(amount)::DOUBLE AS total FROM read_parquet('${join(dir, 'warehouse', 'events')}/**/*.parquet', hive_partitioning = true, union_by_name = true)`,
    )
    expect(r.getRows()[0]).toEqual([500, 2, (499 * 500) / 2])
    c.closeSync()
  })
})
