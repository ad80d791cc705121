import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { buildProgram } from '../../src/cli/main.ts'
import { partFileName } from '../../src/warehouse/layout.ts'
import { DEFAULT_RETENTION_DAYS, dropOldPartitions } from '../../src/warehouse/sink/index.ts'

const tmp = mkdtempSync(join(tmpdir(), 'tagstream-retention-drop-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
afterEach(() => void vi.useRealTimers())

const DAYS = ['2026-10-31', '2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04', '2026-11-05', '2026-11-06']
const BASES = ['events', 'segment-changes', 'notifications']

/** A warehouse with a (dummy) part file in every day of DAYS, for the events (one event) and both output streams. */
function warehouse(name: string): string {
  const root = join(tmp, name)
  for (const [i, dt] of DAYS.entries()) {
    const eventDir = join(root, 'events', `dt=${dt}`, 'event=spin')
    mkdirSync(eventDir, { recursive: true })
    writeFileSync(join(eventDir, partFileName(0, i * 10, i * 10 + 9)), 'x')
    for (const stream of ['segment-changes', 'notifications']) {
      mkdirSync(join(root, stream, `dt=${dt}`), { recursive: true })
      writeFileSync(join(root, stream, `dt=${dt}`, partFileName(0, i, i)), 'x')
    }
  }
  // Not a day: left alone whatever its name says.
  mkdirSync(join(root, 'events', 'dt=someday'), { recursive: true })
  return root
}

/** The days left on disk, the same for every base directory (or the test fails). */
function daysLeft(root: string): string[] {
  const per = BASES.map((b) =>
    readdirSync(join(root, b))
      .filter((n) => /^dt=\d{4}-\d{2}-\d{2}$/.test(n))
      .map((n) => n.slice(3))
      .sort(),
  )
  for (const list of per) expect(list).toEqual(per[0])
  return per[0]!
}

describe('dropOldPartitions: BigQuery partition expiration on the days on disk', () => {
  it('keeps exactly N days, today included, and drops a day at the millisecond it expires', async () => {
    const root = warehouse('boundaries')
    const at = (iso: string) => Date.parse(iso)
    // 2026-11-01 expires at 2026-11-04T00:00Z with 3 days.
    expect(await dropOldPartitions(root, 3, at('2026-11-03T23:59:59.999Z'))).toEqual(['2026-10-31'])
    expect(daysLeft(root)).toEqual(DAYS.slice(1))
    expect(await dropOldPartitions(root, 3, at('2026-11-04T00:00:00.000Z'))).toEqual(['2026-11-01'])
    // Mid-morning of the example: 11-03, 11-04, 11-05 (and the future day 11-06) stay.
    expect(await dropOldPartitions(root, 3, at('2026-11-05T10:00:00.000Z'))).toEqual(['2026-11-02'])
    expect(daysLeft(root)).toEqual(['2026-11-03', '2026-11-04', '2026-11-05', '2026-11-06'])
    expect(await dropOldPartitions(root, 3, at('2026-11-05T23:59:59.999Z'))).toEqual([])
    // One day keeps today only.
    expect(await dropOldPartitions(root, 1, at('2026-11-05T00:00:00.001Z'))).toEqual(['2026-11-03', '2026-11-04'])
    expect(daysLeft(root)).toEqual(['2026-11-05', '2026-11-06'])
    expect(existsSync(join(root, 'events', 'dt=someday'))).toBe(true)
  })

  it('uses 3 days by default, and refuses 0 days rather than dropping everything', async () => {
    expect(DEFAULT_RETENTION_DAYS).toBe(3)
    const root = warehouse('default')
    expect(await dropOldPartitions(root, undefined, Date.parse('2026-11-05T10:00:00Z'))).toEqual(['2026-10-31', '2026-11-01', '2026-11-02'])
    await expect(dropOldPartitions(root, 0, Date.parse('2026-11-05T10:00:00Z'))).rejects.toThrow(RangeError)
    expect(daysLeft(root)).toEqual(['2026-11-03', '2026-11-04', '2026-11-05', '2026-11-06'])
  })

  it('tagstream warehouse retention --days N applies the same rule and says the first day kept', async () => {
    const data = join(tmp, 'cli')
    const root = warehouse(join('cli', 'warehouse'))
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse('2026-11-05T00:00:00.000Z'))
    const out: string[] = []
    const spy = vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s))
    try {
      await buildProgram().parseAsync(['node', 'tagstream', '--data', data, 'warehouse', 'retention'])
      await buildProgram().parseAsync(['node', 'tagstream', '--data', data, 'warehouse', 'retention', '--days', '2'])
    } finally {
      spy.mockRestore()
    }
    expect(out.map((s) => JSON.parse(s) as unknown)).toEqual([
      { dropped: ['2026-10-31', '2026-11-01', '2026-11-02'], keptFrom: '2026-11-03' },
      { dropped: ['2026-11-03'], keptFrom: '2026-11-04' },
    ])
    expect(daysLeft(root)).toEqual(['2026-11-04', '2026-11-05', '2026-11-06'])
  })
})
