import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EmbeddedEventLog } from '../../src/log/embedded/event-log.ts'
import { runEventLogContract } from './event-log-contract.ts'

runEventLogContract('embedded (LMDB)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-log-'))
  return {
    open: (policy) => EmbeddedEventLog.open(dir, { ...policy, retentionCheckMs: 0 }),
    reopen: (policy) => EmbeddedEventLog.open(dir, { ...policy, retentionCheckMs: 0 }),
    retention: true,
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  }
})

describe('embedded log shared by two instances (threads of one process)', () => {
  it('lets a second instance read what the first appends, waking a waiting reader at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tagstream-log-shared-'))
    const writer = await EmbeddedEventLog.open(dir, { retentionCheckMs: 0 })
    await writer.createTopic('t', { partitions: 2 })
    const reader = await EmbeddedEventLog.open(dir, { retentionCheckMs: 0 })
    try {
      await writer.append('t', 1, [{ key: 'k', value: Buffer.from('first') }])
      expect((await reader.offsets('t', 1)).end).toBe(1)
      const waiting = reader.read('t', 1, 1, { maxWaitMs: 5_000 })
      const t0 = Date.now()
      await new Promise((r) => setTimeout(r, 30))
      await writer.append('t', 1, [{ key: 'k', value: Buffer.from('second') }])
      const got = await waiting
      expect(got.map((r) => Buffer.from(r.value).toString())).toEqual(['second'])
      expect(Date.now() - t0).toBeLessThan(1_000)
    } finally {
      await reader.close()
      await writer.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
