import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EventLog } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { canMount, mountTmpfs, unmountTmpfs } from '../support/tmpfs.ts'

/**
 * Issue 15, item 3: a full disk made the embedded log refuse every append until a restart, and
 * LMDB's failed commit left unhandled rejections that exit the process (vitest fails a test file
 * on any unhandled rejection, so this test also checks there are none). A small tmpfs is the disk.
 */
describe.skipIf(!canMount)('the embedded log on a full disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-full-'))
  const ballast = join(dir, 'ballast')
  let log: EventLog
  beforeAll(async () => {
    mountTmpfs(dir, '8m')
    mkdirSync(join(dir, 'log'))
    log = (await openEventLog(join(dir, 'log'), { partitions: 1 })).log
  })
  afterAll(async () => {
    await log?.close()
    await unmountTmpfs(dir)
    rmSync(dir, { recursive: true, force: true })
  })

  const batch = (tag: number) => Array.from({ length: 50 }, (_, i) => ({ key: `k${tag}`, value: Buffer.alloc(1_000, (tag + i) % 251) }))

  it('refuses appends with a message naming the disk, acknowledges none it did not store, and resumes by itself when space returns', async () => {
    writeFileSync(ballast, Buffer.alloc(4 * 1024 * 1024))
    const acked: Array<{ baseOffset: number; count: number; tag: number }> = []
    let failure: Error | null = null
    for (let tag = 0; tag < 500 && failure === null; tag++) {
      try {
        acked.push({ ...(await log.append('events', 0, batch(tag))), tag })
      } catch (err) {
        failure = err as Error
      }
    }
    expect(failure).not.toBeNull()
    expect(failure!.message).toContain('could not write to disk')
    expect(failure!.message).toContain('free space')
    // Still full: refused at once, and again after the retry interval.
    await expect(log.append('events', 0, batch(1_000))).rejects.toThrow('could not write to disk')
    await new Promise((r) => setTimeout(r, 1_100))
    await expect(log.append('events', 0, batch(1_001))).rejects.toThrow('could not write to disk')

    rmSync(ballast)
    let resumed: { baseOffset: number; count: number } | null = null
    for (const deadline = Date.now() + 5_000; resumed === null && Date.now() < deadline;) {
      resumed = await log.append('events', 0, batch(2_000)).catch(() => null)
      if (resumed === null) await new Promise((r) => setTimeout(r, 200))
    }
    expect(resumed).not.toBeNull()
    // Every acknowledged batch reads back whole, at its offsets; the resumed one too.
    const { end } = await log.offsets('events', 0)
    expect(end).toBe(resumed!.baseOffset + resumed!.count)
    const records = []
    for (let offset = 0; offset < end;) {
      const got = await log.read('events', 0, offset, { maxRecords: 10_000 })
      if (got.length === 0) break
      records.push(...got)
      offset = got.at(-1)!.offset + 1
    }
    const byOffset = new Map(records.map((r) => [r.offset, r]))
    for (const a of [...acked, { ...resumed!, tag: 2_000 }]) {
      for (let i = 0; i < a.count; i++) {
        const r = byOffset.get(a.baseOffset + i)
        expect(r?.key).toBe(`k${a.tag}`)
        expect(Buffer.from(r!.value)[0]).toBe((a.tag + i) % 251)
      }
    }
  })
})
