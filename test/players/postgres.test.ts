import { afterAll, describe, expect, it } from 'vitest'
import { PostgresPlayerStore } from '../../src/players/postgres/player-store.ts'
import { PostgresStateStore } from '../../src/state/postgres/state-store.ts'
import { sql, testSchema } from '../state/postgres-helpers.ts'
import { runPlayerStoreContract } from './player-store-contract.ts'

const contract = testSchema('players')
afterAll(() => contract.drop())

runPlayerStoreContract('Postgres', () => ({
  open: () => PostgresPlayerStore.open(contract.url),
  reopen: () => PostgresPlayerStore.open(contract.url),
  resetEngine: async () => {
    const state = await PostgresStateStore.open(contract.url)
    await state.reset('engine')
    await state.close()
  },
  cleanup: () => contract.truncate(),
}))

describe('Postgres player store specifics', () => {
  const s = testSchema('players_tables')
  afterAll(() => s.drop())

  it("creates the game's tables beside the state store's, in the schema the URL names, and either may open first", async () => {
    const players = await PostgresPlayerStore.open(s.url)
    const state = await PostgresStateStore.open(s.url)
    const tables = await sql<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [s.schema])
    expect(tables.map((t) => t.table_name)).toEqual([
      'audit',
      'checkpoint_writers',
      'checkpoints',
      'erasures',
      'game_outbox',
      'inbox',
      'inbox_positions',
      'partition_leases',
      'players',
      'rule_sets',
      'users',
    ])
    await state.close()
    await players.close()
  })
})
