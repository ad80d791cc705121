/**
 * The seeds' own command lines against `serve --seed-port` (docs/game.md, "Seed commands"), copied
 * from the seeds with only the host and port changed and run with the tools the seeds use: Apache
 * Bench for seed 002 (anonymous calls told apart by the Host header), curl for seed 003 (forms
 * naming a player). Then each seed's own questions: 002's two business questions (the reports),
 * 003's four Presto queries run verbatim over the warehouse.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auth, sqlWhen, startTestServer, type TestServer } from './harness.ts'

const run = promisify(execFile)
let s: TestServer
let seed: string

beforeAll(async () => {
  s = await startTestServer({ seed: { port: 0, tenant: 'default' } })
  seed = s.server.seedUrl!.replace('localhost', '127.0.0.1')
})
afterAll(async () => {
  await s.close()
})

/** `ab` as seed 002's event_generator.py runs it: `ab -n N -c 1 -T -p -H 'Host: …' URL`. */
async function ab(n: number, host: string, path: string): Promise<number> {
  const { stdout } = await run('ab', ['-n', String(n), '-c', '1', '-T', '-p', '-H', `Host: ${host}`, `${seed}${path}`])
  const complete = /Complete requests:\s+(\d+)/.exec(stdout)
  const failed = /Failed requests:\s+(\d+)/.exec(stdout)
  expect(Number(failed?.[1])).toBe(0)
  expect(stdout).not.toMatch(/Non-2xx responses/)
  return Number(complete?.[1])
}

async function curl(...args: string[]): Promise<string> {
  return (await run('curl', ['-s', ...args])).stdout
}

const report = async (name: string) => ((await (await fetch(`${s.url}/v1/reports/${name}`, { headers: auth(s.keys.read) })).json()) as { rows: unknown[][]; columns: string[] }).rows

describe("seed 002's commands", () => {
  it('records anonymous purchases and guild joins per Host, answered in plain text, and answers its two business questions', async () => {
    expect(await ab(2, 'user46.earthlink.com', '/purchase/shield')).toBe(2)
    expect(await ab(3, 'user1.comcast.com', '/purchase/knife')).toBe(3)
    expect(await ab(1, 'user7.att.com', '/purchase/knife')).toBe(1)
    expect(await ab(2, 'user7.att.com', '/join_a_guild')).toBe(2)
    // Flask's answers, word for word.
    expect(await curl('-H', 'Host: user46.earthlink.com', `${seed}/purchase/sword`)).toBe('sword Purchased!\n')
    expect(await curl('-X', 'POST', `${seed}/join_a_guild`)).toBe('Joined guild.\n')
    expect(await curl(`${seed}/purchase/Bad-Item`)).toContain('item kind')

    // Each host is one anonymous visitor.
    const profile = await fetch(`${s.url}/v1/profiles/${encodeURIComponent('visitor:user1.comcast.com')}`, { headers: auth(s.keys.read) })
    expect(profile.status).toBe(200)
    expect(((await profile.json()) as { counts: Record<string, number> }).counts).toEqual({ purchase: 3 })

    // "What are the most popular events across our user base?"
    await sqlWhen(s, "SELECT count(*) FROM events WHERE event IN ('purchase', 'join_guild')", (r) => Number(r[0]?.[0]) === 10)
    expect(await report('popular_events')).toEqual([
      ['buy_knife', 4],
      ['join_guild', 3],
      ['buy_shield', 2],
      ['buy_sword', 1],
    ])
    // "What internet host providers do our users utilize and what events are most popular on those hosts?"
    const byProvider = (await report('events_by_listed_provider')).map((r) => r.join(' '))
    expect(byProvider).toEqual(expect.arrayContaining(['att buy_knife 1', 'att join_guild 2', 'comcast buy_knife 3', 'earthlink buy_shield 2', 'earthlink buy_sword 1']))
  }, 60_000)
})

describe("seed 003's commands", () => {
  it('creates players, buys and joins by form, shows a player, and answers its four Presto queries verbatim', async () => {
    // The seed's test data, in its order; its transcript's answers.
    expect(await curl(`${seed}/`)).toContain('<a href="static/register.html">static/register.html</a>')
    expect(await curl('-d', 'userid=987611&userpwd=blahdh&username=dirk&wealth=12345', `${seed}/create/user`)).toBe('Created user +:)')
    expect(await curl('-d', 'userid=987611&type=cutlass&cost=5000', `${seed}/buy/sword`)).toBe('Sword purchased [:)')
    expect(await curl('-d', 'userid=987611&type=longsword&cost=10000', `${seed}/buy/sword`)).toBe('You do not have sufficient funds [:(')
    // The seed took a join's cost without looking at the wealth (its dirk ended at −2,654); here a join the player cannot afford is refused.
    expect(await curl('-d', 'userid=987611&org=soldiers&level=masterofarms&cost=9999', `${seed}/join/guild`)).toBe('You do not have sufficient funds [:(')
    expect(await curl('-d', 'userid=987611&org=soldiers&level=masterofarms&cost=999', `${seed}/join/guild`)).toBe('Joined #guild')
    expect(await curl('-d', 'userid=1234&userpwd=yahbadaba&username=merly&wealth=98712', `${seed}/create/user`)).toBe('Created user +:)')
    expect(await curl('-d', 'userid=1234&type=charm&cost=4999', `${seed}/buy/spell`)).toBe('Spell purchased <:)')
    expect(await curl('-d', 'userid=1234&type=charm&cost=4999', `${seed}/buy/spell`)).toBe('Spell purchased <:)')
    expect(await curl('-d', 'userid=1234&org=magicians&level=accolyte&cost=99', `${seed}/join/guild`)).toBe('Joined #guild')
    // Its ab stream posts JSON bodies (test/post-join*.txt) with a Host header: the first join counts, the others are already members.
    const dir = mkdtempSync(join(tmpdir(), 'tagstream-seed-ab-'))
    try {
      writeFileSync(join(dir, 'post-join0.txt'), JSON.stringify({ userid: '1234', org: 'team ABCD', level: 'rookie' }))
      const { stdout } = await run('ab', ['-n', '3', '-p', join(dir, 'post-join0.txt'), '-T', 'application/json', '-H', 'Host: user1.comcast.com', `${seed}/join/team`])
      expect(stdout).toMatch(/Complete requests:\s+3/)
      expect(stdout).not.toMatch(/Non-2xx responses/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    const user = await curl(`${seed}/data/user?userid=987611`)
    expect(user.startsWith('User data: \n\n')).toBe(true)
    expect(JSON.parse(user.slice('User data: \n\n'.length))).toMatchObject({
      user_id: '987611',
      wealth: 12345 - 5000 - 999,
      user_pwd: '****',
      affiliations: [{ org: 'soldiers', level: 'masterofarms' }],
      health: 100,
      inventory: ['cutlass'],
      user_name: 'dirk',
    })
    expect(await curl('-d', 'userid=987611&userpwd=blahdh&username=dirk&wealth=1', `${seed}/create/user`)).toBe('User already exists [:(')

    // Its Presto queries, verbatim.
    await sqlWhen(s, "SELECT count(*) FROM events WHERE event IN ('purchase', 'join_guild', 'player_created') AND user_id IN ('987611', '1234')", (r) => Number(r[0]?.[0]) === 9)
    const q = async (sql: string) => (await sqlWhen(s, sql, () => true)).map((r) => r.map(String).join(' | '))
    expect(await q('select status, type, count(type) as num_items from buys group by status, type order by status;')).toEqual(
      expect.arrayContaining(['approved_purchase | cutlass | 1', 'approved_purchase | charm | 2', 'insufficient_funds | longsword | 1']),
    )
    expect(await q("select type, round(avg(cost), 2) as avg_cost from buys where status='approved_purchase' group by type order by type;")).toEqual(
      expect.arrayContaining(['charm | 4999', 'cutlass | 5000']),
    )
    expect(await q('select event_type, org, count(org) as num_joins from social group by event_type, org order by num_joins desc;')).toEqual(
      expect.arrayContaining(['join_guild | soldiers | 2', 'join_guild | magicians | 1', 'join_team | team ABCD | 3']),
    )
    // Every social row, as the seed's query reads them: dirk's refused join at 7,345 and approved one at 6,346.
    expect(await q('select org, round(avg(player_wealth), 2) as avg_wealth from social group by org order by org;')).toEqual(
      expect.arrayContaining(['magicians | 88615', 'soldiers | 6845.5', 'team ABCD | 88615']),
    )
  }, 60_000)
})
