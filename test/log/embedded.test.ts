import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
