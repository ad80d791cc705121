import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EmbeddedPlayerStore } from '../../src/players/embedded/player-store.ts'
import { EmbeddedStateStore } from '../../src/state/embedded/state-store.ts'
import { runPlayerStoreContract } from './player-store-contract.ts'

runPlayerStoreContract('embedded (LMDB)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-players-'))
  return {
    open: async () => EmbeddedPlayerStore.open(dir),
    reopen: async () => EmbeddedPlayerStore.open(dir),
    resetEngine: async () => {
      const state = EmbeddedStateStore.open(dir)
      await state.reset('engine')
      await state.close()
    },
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  }
})
