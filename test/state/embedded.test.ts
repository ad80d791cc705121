import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EmbeddedStateStore } from '../../src/state/embedded/state-store.ts'
import { runStateStoreContract } from './state-store-contract.ts'

runStateStoreContract('embedded (LMDB)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-state-'))
  return {
    open: async () => EmbeddedStateStore.open(dir),
    reopen: async () => EmbeddedStateStore.open(dir),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  }
})
