import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { EmbeddedStateStore } from '../src/state/embedded/state-store.ts'
import { PostgresStateStore } from '../src/state/postgres/state-store.ts'
import { EmbeddedPlayerStore } from '../src/players/embedded/player-store.ts'
import type { PlayerRecord, PlayerStore } from '../src/players/player-store.ts'
import { PostgresPlayerStore } from '../src/players/postgres/player-store.ts'
import type { StateStore, UserRecord } from '../src/state/state-store.ts'
import { fmt, type Section } from './report.ts'

const SERVER = process.env.TAGSTREAM_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test'
const STATE_BYTES = Number(process.env.BENCH_PG_STATE_BYTES ?? 256)
/** Users written per size: enough checkpoints that one slow fsync does not decide the figure. */
const USERS_PER_SIZE = Number(process.env.BENCH_PG_USERS ?? 200_000)
const PLAYERS = 1_000
const PLAYER_UPDATES = Number(process.env.BENCH_PG_PLAYER_UPDATES ?? 20_000)
const IN_FLIGHT = 32

function users(count: number, from: number, round: number): UserRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const state = new Uint8Array(STATE_BYTES)
    state.fill((from + i + round) & 0xff)
    return { key: `default:user-${String(from + i).padStart(8, '0')}`, state }
  })
}

/**
 * Users per second through saveCheckpoint at one checkpoint size: the partition is filled first
 * (inserts), then every user is rewritten in checkpoints of `size` (updates: the steady state).
 */
async function checkpointRate(store: StateStore, namespace: string, size: number): Promise<{ insert: number; update: number }> {
  const rounds = Math.max(1, Math.floor(USERS_PER_SIZE / size))
  const batches = Array.from({ length: rounds }, (_, r) => users(size, r * size, 0))
  let offset = 0
  const t0 = performance.now()
  for (const batch of batches) await store.saveCheckpoint(namespace, 0, { nextOffset: ++offset, engine: {}, outputs: {} }, batch)
  const insert = (rounds * size) / ((performance.now() - t0) / 1000)
  const updates = Array.from({ length: rounds }, (_, r) => users(size, r * size, 1))
  const t1 = performance.now()
  for (const batch of updates) await store.saveCheckpoint(namespace, 0, { nextOffset: ++offset, engine: {}, outputs: {} }, batch)
  const update = (rounds * size) / ((performance.now() - t1) / 1000)
  return { insert, update }
}

async function loadRate(store: StateStore, namespace: string): Promise<number> {
  const t0 = performance.now()
  let n = 0
  for await (const u of store.loadUsers(namespace, 0)) n += u.state === null ? 0 : 1
  return n / ((performance.now() - t0) / 1000)
}

/** updatePlayer with IN_FLIGHT calls at once: spread over PLAYERS players, or all on one player. */
async function playerRate(store: PlayerStore, spread: number): Promise<number> {
  let next = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < PLAYER_UPDATES) {
        const i = next++
        await store.updatePlayer('default', `p${i % spread}`, (p) => ({ write: { ...p, wealth: p.wealth - 1 }, result: 'ok' }))
      }
    }),
  )
  return PLAYER_UPDATES / ((performance.now() - t0) / 1000)
}

async function measure(
  store: StateStore,
  players: PlayerStore,
): Promise<{ small: { insert: number; update: number }; large: { insert: number; update: number }; load: number; spread: number; contended: number }> {
  const small = await checkpointRate(store, 'bench-1k', 1_000)
  const large = await checkpointRate(store, 'bench-10k', 10_000)
  const load = await loadRate(store, 'bench-10k')
  for (let i = 0; i < PLAYERS; i++) {
    const player: PlayerRecord = { id: `p${i}`, tenant: 'default', name: `player ${i}`, password_hash: 'x', wealth: 1e9, health: 100, created: 0, inventory: [], affiliations: [], version: 1 }
    await players.createPlayer(player)
  }
  return { small, large, load, spread: await playerRate(players, PLAYERS), contended: await playerRate(players, 1) }
}

/** The Postgres state store: checkpoint throughput at two sizes, user loading, atomic player updates; embedded alongside. */
export async function benchPostgres(): Promise<Section> {
  const schema = `tagstream_bench_${process.pid}`
  const admin = new pg.Client({ connectionString: SERVER })
  await admin.connect()
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-bench-state-'))
  try {
    const postgres = await PostgresStateStore.open(`${SERVER}?schema=${schema}`)
    const postgresPlayers = await PostgresPlayerStore.open(`${SERVER}?schema=${schema}`)
    const p = await measure(postgres, postgresPlayers)
    await postgresPlayers.close()
    await postgres.close()
    const embedded = EmbeddedStateStore.open(dir)
    const embeddedPlayers = EmbeddedPlayerStore.open(dir)
    const e = await measure(embedded, embeddedPlayers)
    await embeddedPlayers.close()
    await embedded.close()
    const { rows } = await admin.query<{ setting: string }>("SELECT current_setting('synchronous_commit') AS setting")
    return {
      title: 'Postgres state store',
      description:
        `${fmt(USERS_PER_SIZE)} users of ${STATE_BYTES} bytes each written through saveCheckpoint, first as inserts into an empty partition, then rewritten (the steady state), ` +
        `in checkpoints of 1,000 and of 10,000 users; each checkpoint is one statement, one transaction, one commit (synchronous_commit=${rows[0]?.setting ?? '?'}). ` +
        `updatePlayer: ${fmt(PLAYER_UPDATES)} read-modify-writes, ${IN_FLIGHT} in flight, over ${fmt(PLAYERS)} players and then all on one player (row lock queue). ` +
        `Postgres ${SERVER.replace(/\/\/[^@]*@/, '//')} on this machine; the embedded (LMDB) store measured the same way for comparison.`,
      figures: [
        { name: 'saveCheckpoint, 1,000 users each: update', value: p.small.update, unit: 'users/s', notes: `insert ${fmt(p.small.insert)}/s` },
        { name: 'saveCheckpoint, 10,000 users each: update', value: p.large.update, unit: 'users/s', notes: `insert ${fmt(p.large.insert)}/s` },
        { name: 'loadUsers (keyset pages of 2,000)', value: p.load, unit: 'users/s' },
        { name: 'updatePlayer, 1,000 players', value: p.spread, unit: 'ops/s' },
        { name: 'updatePlayer, one player', value: p.contended, unit: 'ops/s' },
        { name: 'comparison: embedded saveCheckpoint, 1,000 users each', value: e.small.update, unit: 'users/s' },
        { name: 'comparison: embedded saveCheckpoint, 10,000 users each', value: e.large.update, unit: 'users/s' },
        { name: 'comparison: embedded updatePlayer, 1,000 players', value: e.spread, unit: 'ops/s' },
      ],
    }
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await admin.end()
    rmSync(dir, { recursive: true, force: true })
  }
}

// Run alone: `node --import tsx bench/postgres.bench.ts`.
if (import.meta.url === `file://${process.argv[1]}`) {
  const section = await benchPostgres()
  for (const f of section.figures) process.stderr.write(`${f.name}: ${fmt(f.value)} ${f.unit}${f.notes ? ` (${f.notes})` : ''}\n`)
}
