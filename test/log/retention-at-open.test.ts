import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { EmbeddedEventLog } from '../../src/log/embedded/event-log.ts'
import { retentionCutoff } from '../../src/log/event-log.ts'
import { firstKeptDay } from '../../src/warehouse/retention.ts'

/*
 * The embedded log expires records by day of append time like the warehouse's day partitions
 * (BigQuery's partition expiration: a day goes at its 00:00 UTC + the retention), and the handle
 * that keeps the log applies retention once at open, before anything is served.
 */

const DAY = 86_400_000
const tmp = mkdtempSync(join(tmpdir(), 'tagstream-log-retention-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
afterEach(() => void vi.useRealTimers())

const rec = (s: string) => ({ key: 'k', value: Buffer.from(s) })

/** Appends one batch per time, each with the clock set to that time (the log stamps append times itself). */
async function logWithAppendTimes(name: string, times: number[]): Promise<string> {
  const dir = join(tmp, name)
  vi.useFakeTimers({ toFake: ['Date'] })
  const log = await EmbeddedEventLog.open(dir, { retentionCheckMs: 0 })
  try {
    await log.createTopic('t', { partitions: 1 })
    for (const t of times) {
      vi.setSystemTime(t)
      await log.append('t', 0, [rec(new Date(t).toISOString())])
    }
  } finally {
    await log.close()
    vi.useRealTimers()
  }
  return dir
}

describe('embedded log retention by day of append time', () => {
  it('keeps from 00:00 UTC of the warehouse first kept day, for every N and on generated times', () => {
    let s = 4242
    const samples: number[] = []
    for (let i = 0; i < 2_000; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0
      samples.push(Date.UTC(2000, 0, 1) + Math.floor((s / 2 ** 32) * 100 * 365 * DAY))
    }
    const midnight = Date.parse('2026-11-05T00:00:00Z')
    for (const now of [...samples, midnight - 1, midnight, midnight + 1]) {
      for (const n of [1, 2, 3, 7, 3650]) expect(retentionCutoff(now, n * DAY)).toBe(Date.parse(`${firstKeptDay(now, n)}T00:00:00Z`))
    }
  })

  it('removes a day of records at the millisecond its 00:00 UTC plus the retention comes', async () => {
    const appended = [Date.parse('2026-11-01T00:00:00.000Z'), Date.parse('2026-11-01T23:59:59.999Z'), Date.parse('2026-11-02T00:00:00.000Z')]
    const dir = await logWithAppendTimes('boundary', appended)
    const log = await EmbeddedEventLog.open(dir, { retentionCheckMs: 0, retentionMs: 3 * DAY })
    try {
      expect((await log.applyRetention(Date.parse('2026-11-03T23:59:59.999Z'))).deletedRecords).toBe(0)
      expect(await log.offsets('t', 0)).toEqual({ start: 0, end: 3 })
      // 2026-11-01 expires at 2026-11-04T00:00Z: both its records go, 11-02's stays.
      expect((await log.applyRetention(Date.parse('2026-11-04T00:00:00.000Z'))).deletedRecords).toBe(2)
      expect(await log.offsets('t', 0)).toEqual({ start: 2, end: 3 })
      expect((await log.applyRetention(Date.parse('2026-11-04T23:59:59.999Z'))).deletedRecords).toBe(0)
      expect((await log.applyRetention(Date.parse('2026-11-05T00:00:00.000Z'))).deletedRecords).toBe(1)
    } finally {
      await log.close()
    }
  })

  it('applies retention at open in the handle that keeps the log (timer on), not in readers', async ({ skip }) => {
    // The days are counted from today's date: a run across 00:00 UTC would shift them.
    if (DAY - (Date.now() % DAY) < 60_000) skip()
    const today = Math.floor(Date.now() / DAY) * DAY
    // Appended 5, 3 and 2 days ago and just now: with 3 days, the first two have expired.
    const dir = await logWithAppendTimes('open', [today - 5 * DAY + 1, today - 3 * DAY + 1, today - 2 * DAY + 1, Date.now()])
    const reader = await EmbeddedEventLog.open(dir, { retentionCheckMs: 0, retentionMs: 3 * DAY })
    try {
      expect(await reader.offsets('t', 0)).toEqual({ start: 0, end: 4 })
    } finally {
      await reader.close()
    }
    const keeper = await EmbeddedEventLog.open(dir, { retentionMs: 3 * DAY })
    try {
      expect(await keeper.offsets('t', 0)).toEqual({ start: 2, end: 4 })
      expect((await keeper.read('t', 0, 0)).map((r) => r.offset)).toEqual([2, 3])
    } finally {
      await keeper.close()
    }
  })
})
