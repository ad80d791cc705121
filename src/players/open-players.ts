import { resolve } from 'node:path'
import type { Logger } from '../logger.ts'
import { isPostgresUrl, stateDirectory } from '../state/open-state.ts'
import type { PlayerStore } from './player-store.ts'

/**
 * The game's player store, kept where the state store's URL points (`--state`): a directory opens
 * the embedded adapter in that LMDB environment, postgres:// the Postgres adapter in that schema.
 * Adapters load by URL, as the state store's do.
 */
export async function openPlayerStore(stateUrl: string, options: { logger?: Logger } = {}): Promise<PlayerStore> {
  if (isPostgresUrl(stateUrl)) {
    const { PostgresPlayerStore } = await import('./postgres/player-store.ts')
    return PostgresPlayerStore.open(stateUrl, options)
  }
  const { EmbeddedPlayerStore } = await import('./embedded/player-store.ts')
  return EmbeddedPlayerStore.open(resolve(stateDirectory(stateUrl)))
}
