import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openEventLog } from '../../src/log/open-log.ts'
import { startWarehouseSink } from '../../src/warehouse/sink/index.ts'
import { canMount, fillDisk, mountTmpfs, unmountTmpfs } from '../support/tmpfs.ts'
import { until } from '../support/until.ts'
import { appendAll, fingerprint, workload } from './sink-helpers.ts'

/*
 * A running sink that failed once (here: the warehouse's disk full) stopped for good: the server
 * kept taking events and the warehouse fell behind until a restart. It now starts again from the
 * committed offsets after a pause, as a restarted process would (src/warehouse/sink/run.ts).
 */
describe.skipIf(!canMount)('the running sink on a full disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-sink-full-'))
  const disk = join(dir, 'disk')
  afterAll(async () => {
    await unmountTmpfs(disk)
    rmSync(dir, { recursive: true, force: true })
  })

  it('fails with the disk named, starts again by itself once space returns, and ends with every row once', { timeout: 90_000 }, async () => {
    mkdirSync(disk)
    mountTmpfs(disk, '16m')
    const root = join(disk, 'wh')
    // The log on the real disk: only the warehouse's disk fills.
    const { log, partitions } = await openEventLog(join(dir, 'log'), { partitions: 2 })
    const sink = await startWarehouseSink(log, root, { flushIntervalMs: 200, quietFlushMs: 100, pollWaitMs: 10, liveCompaction: null, retentionDays: 3650 })
    const events = workload(4_000, 12)
    try {
      await appendAll(log, events.slice(0, 1_000), partitions)
      await until('the first rows', () => sink.stats().rowsWritten === 1_000, 20_000)
      const ballast = fillDisk(disk)
      await appendAll(log, events.slice(1_000, 3_000), partitions)
      await until('the failure', () => sink.stats().lastError !== null, 20_000)
      expect(sink.stats().lastError).toMatch(/ENOSPC|no space/i)
      // Still full across a restart or two.
      await new Promise((r) => setTimeout(r, 2_500))
      rmSync(ballast)
      await appendAll(log, events.slice(3_000), partitions)
      await until('every row after the restart', async () => (await fingerprint(root)).rows === events.length, 60_000)
    } finally {
      await sink.stop()
      await log.close()
    }
    expect(await fingerprint(root)).toMatchObject({ rows: events.length, duplicates: 0 })
    // Its counts go on across the restart (the rows before it are still counted).
    expect(sink.stats().rowsWritten).toBeGreaterThanOrEqual(events.length)
  })
})
