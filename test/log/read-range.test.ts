import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readRange } from '../../src/log/read-range.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import type { EventLog } from '../../src/log/event-log.ts'

// The dashboard walks back through the log in ranges; one read stops at 4 MiB, so a range of
// large records takes several reads, and none may be skipped.

let dir: string
let log: EventLog
const BIG = 64 * 1024

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tagstream-range-'))
  log = (await openEventLog(join(dir, 'log'), { partitions: 1 })).log
  await log.createTopic('t', { partitions: 1 })
  // 100 records of 64 KiB = 6.4 MiB: more than one read returns.
  for (let i = 0; i < 100; i += 10) {
    await log.append(
      't',
      0,
      Array.from({ length: 10 }, (_, j) => ({ key: `k${i + j}`, value: new Uint8Array(BIG).fill((i + j) % 251) })),
    )
  }
})
afterAll(async () => {
  await log?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('readRange', () => {
  it('returns every record of the range even when one read is cut short by its byte limit', async () => {
    const one = await log.read('t', 0, 0, { maxRecords: 100 })
    expect(one.length).toBeLessThan(100)
    const all = await readRange(log, 't', 0, 0, 100)
    expect(all.map((r) => r.offset)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect(all[99]!.key).toBe('k99')
  })

  it('stops at the end of the range and at the end of the log', async () => {
    expect((await readRange(log, 't', 0, 40, 45)).map((r) => r.offset)).toEqual([40, 41, 42, 43, 44])
    expect((await readRange(log, 't', 0, 98, 500)).map((r) => r.offset)).toEqual([98, 99])
    expect(await readRange(log, 't', 0, 7, 7)).toEqual([])
  })
})
