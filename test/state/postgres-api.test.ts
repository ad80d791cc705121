import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../api/harness.ts'
import { get, post } from '../game/helpers.ts'
import { sql, testSchema } from './postgres-helpers.ts'

const T0 = Date.UTC(2026, 10, 1, 10)
// The NUL and emoji ids are valid user ids for the collector; in Postgres they become bytea keys.
const USERS = ['u1', 'u2', 'u3', 'nul\u0000id', 'émoji\u{1F600}']

const EVENTS = [
  { event: 'spin', user_id: 'u1', ts: T0, country: 'TR' },
  { event: 'spin', user_id: 'u1', ts: T0 + 1000 },
  { event: 'spin', user_id: 'u1', ts: T0 + 2000 },
  { event: 'purchase', user_id: 'u2', ts: T0 + 3000, amount: 25, country: 'DE' },
  { event: 'spin', user_id: 'u3', ts: T0 + 4000, country: 'TR' },
  { event: 'purchase', user_id: 'nul\u0000id', ts: T0 + 5000, amount: 11 },
  { event: 'spin', user_id: 'émoji\u{1F600}', ts: T0 + 6000 },
]

async function until(f: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!f()) {
    if (Date.now() > end) throw new Error('timed out waiting for the engine')
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** What a client sees of profiles and segments: every user's profile, the segment list, one search. */
async function profilesView(s: TestServer): Promise<unknown[]> {
  const out: unknown[] = []
  for (const u of [...USERS, 'nobody']) {
    const r = await get(s, `/v1/profiles/${encodeURIComponent(u)}`)
    out.push([u, r.status, r.json])
  }
  out.push((await get(s, '/v1/segments')).json, (await get(s, '/v1/profiles?where=country:TR')).json, (await get(s, '/v1/segments/buyer/members')).json)
  return out
}

/**
 * Wall-clock times (player creation, purchases, the game player's segment entry) and which of the 100
 * concurrent potions won depend on the clock and on arrival order, not on the store: they are blanked
 * before the two runs are compared. Event times of the fixed events (around T0) are kept.
 */
function normalise(j: unknown): unknown {
  const text = JSON.stringify(j)
    .replace(/"(created|bought_at|since)":(\d+)/g, (all, field: string, ms: string) => (Number(ms) > T0 + 86_400_000 ? `"${field}":"wall clock"` : all))
    .replace(/"potion\d+"/g, '"potion"')
  return JSON.parse(text) as unknown
}

/** The game scenario: registrations (one duplicate), 100 concurrent purchases, lookups. */
async function gameView(s: TestServer): Promise<unknown[]> {
  const out: unknown[] = []
  const reg = await post(s, '/game/players', { id: 'player-1', name: 'dirk', password: 'pw-secret-1', wealth: 1000 })
  out.push(['register', reg.status, normalise(reg.json)])
  for (const body of [
    { name: 'dirk', password: 'pw-secret-2' },
    { id: 'player-1', name: 'other', password: 'pw-secret-2' },
  ]) {
    const dup = await post(s, '/game/players', body)
    out.push(['duplicate', dup.status, dup.json])
  }
  const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => post(s, '/game/buy/potion', { player: 'player-1', type: `potion${i}`, cost: 30 })))
  const statuses = answers.map((a) => a.status)
  out.push(['purchases', statuses.filter((x) => x === 200).length, statuses.filter((x) => x === 402).length])
  const wealthSeen = answers
    .filter((a) => a.status === 200)
    .map((a) => (a.json.player as { wealth: number }).wealth)
    .sort((a, b) => b - a)
  out.push(['wealth after each approval', wealthSeen])
  for (const path of ['/game/players/player-1', '/game/players?name=dirk', '/game/players?name=nobody', '/game/players?name=a%00b']) {
    const r = await get(s, path)
    out.push([path, r.status, normalise(r.json)])
  }
  return out
}

interface Run {
  profiles: unknown[]
  game: unknown[]
  beforeRestart: unknown[]
  afterRestart: unknown[]
  stateDirExists: boolean
}

/** The same client session against a server on the given state URL, restarted once in the middle. */
async function session(stateUrl: (dataDir: string) => string): Promise<Run> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tagstream-pg-api-'))
  try {
    let s = await startTestServer({ dataDir, stateUrl: stateUrl(dataDir), clockTickMs: 0 })
    try {
      const accepted = await post(s, '/v1/events', JSON.stringify(EVENTS))
      expect(accepted.status).toBeLessThan(300)
      await until(() => s.ctx.engine.snapshot().processed >= EVENTS.length)
      const profiles = (await profilesView(s)).map(normalise)
      const game = await gameView(s)
      await until(() => s.ctx.engine.snapshot().processed >= EVENTS.length + 1 + 100)
      const beforeRestart = [...(await profilesView(s)), (await get(s, '/game/players?name=dirk')).json].map(normalise)
      await s.close()
      // A restart restores the engine from the store's checkpoint and finds the players there.
      s = await startTestServer({ dataDir, stateUrl: stateUrl(dataDir), segmentsPath: join(dataDir, 'test-segments.yaml'), clockTickMs: 0 })
      const afterRestart = [...(await profilesView(s)), (await get(s, '/game/players?name=dirk')).json]
      return { profiles, game, beforeRestart, afterRestart: afterRestart.map(normalise), stateDirExists: existsSync(join(dataDir, 'state')) }
    } finally {
      await s.close()
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}

describe('the profiles and game APIs on Postgres state behave as on embedded state', () => {
  const pg = testSchema('api')
  afterAll(() => pg.drop())
  let embedded: Run
  let postgres: Run

  it('runs the same session on both stores', async () => {
    embedded = await session((dir) => join(dir, 'state'))
    postgres = await session(() => pg.url)
    expect(embedded.stateDirExists).toBe(true)
    // Nothing went to the local disk: checkpoints, users and players are in the schema.
    expect(postgres.stateDirExists).toBe(false)
    const [counts] = await sql<{ players: number; users: number; offsets: number }>(
      `SELECT (SELECT count(*)::int FROM ${pg.schema}.players) AS players, (SELECT count(*)::int FROM ${pg.schema}.users) AS users,
        (SELECT sum((checkpoint->>'nextOffset')::int)::int FROM ${pg.schema}.checkpoints) AS offsets`,
    )
    expect(counts).toEqual({ players: 1, users: USERS.length + 1, offsets: EVENTS.length + 1 + 100 })
  })

  it('answers profiles and segments identically, including users whose ids hold NUL and emoji', () => {
    expect(postgres.profiles).toEqual(embedded.profiles)
    expect(postgres.profiles[0]).toMatchObject(['u1', 200, { user_id: 'u1', counts: { spin: 3 }, segments: [{ segment: 'spinner', since: T0 + 2000 }] }])
    expect(postgres.profiles[3]).toMatchObject(['nul\u0000id', 200, { user_id: 'nul\u0000id', traits: { total_purchases: 11 } }])
    expect(postgres.profiles[5]).toEqual(['nobody', 404, { error: { code: 'not_found', message: 'no profile for user "nobody"' } }])
  })

  it('answers the game API identically: duplicates refused, 100 concurrent purchases → 33 approved, 67 refused', () => {
    expect(postgres.game).toEqual(embedded.game)
    expect((postgres.game[1] as unknown[]).slice(0, 2)).toEqual(['duplicate', 409])
    expect(postgres.game[1]).toMatchObject({ 2: { error: { code: 'duplicate_name' } } })
    expect(postgres.game[2]).toMatchObject({ 1: 409, 2: { error: { code: 'duplicate_id', field: 'id' } } })
    expect(postgres.game[3]).toEqual(['purchases', 33, 67])
    expect(postgres.game[4]).toEqual(['wealth after each approval', Array.from({ length: 33 }, (_, i) => 1000 - 30 * (i + 1))])
    expect(postgres.game[5]).toMatchObject(['/game/players/player-1', 200, { player: { wealth: 10, version: 34 } }])
  })

  it('restores the same profiles and players after a restart', () => {
    expect(postgres.afterRestart).toEqual(embedded.afterRestart)
    expect(postgres.afterRestart).toEqual(postgres.beforeRestart)
    expect(postgres.afterRestart.at(-1)).toMatchObject({ player: { id: 'player-1', wealth: 10, version: 34 } })
  })
})
