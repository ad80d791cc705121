import Fastify, { type FastifyInstance } from 'fastify'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../../src/api/config.ts'
import { queryRoutes } from '../../src/api/routes/query.ts'
import { PROVIDERS } from '../../src/sim/game/catalog.ts'
import { openWarehouse, type QueryResult, type Warehouse } from '../../src/warehouse/query/index.ts'
import { DEFAULT_PROVIDERS, getReport, ReportParamError, runReport } from '../../src/warehouse/reports/index.ts'
import { queryRouteContext, tempRoot, writeEvents, type FixtureEvent } from './fixtures.ts'
import { referenceSessions } from './sessions-reference.ts'

/*
 * Issue 16, item 4: seed 003's unanswered questions (first login → first org join, wealth by time
 * played), seed 002's provider report with its provider list as a parameter, and the two org
 * reports counting the same joins. Every expected value is computed here from GAME in TypeScript.
 */

const HOSTS: Record<string, string> = { p1: 'user1.comcast.net', p2: 'user2.ATT.net:8080', p3: '10.0.0.7', p4: 'p4.google.com', p5: 'p5.seattle.net' }

function ev(event: string, user: string, ts: string, props: Record<string, unknown> = {}, tenant?: string): FixtureEvent {
  const host = HOSTS[user]
  const properties = host === undefined ? props : { host, user_agent: 'curl/8.5.0', accept: '*/*', ...props }
  return tenant === undefined ? { event, user_id: user, ts, properties } : { event, user_id: user, ts, properties, tenant }
}
const d1 = (hms: string) => `2026-03-01T${hms}Z`
const d2 = (hms: string) => `2026-03-02T${hms}Z`
const join_ = (kind: 'guild' | 'team', org: string, status: string | null, wealth: number, cost = 0) => ({
  kind,
  org,
  level: 'rookie',
  cost,
  player_wealth: wealth,
  ...(status === null ? {} : { status }),
})

const GAME: FixtureEvent[] = [
  // p1: a wrong password, a refused and a duplicate join, two sessions (65 min apart) of 25 and 10 min.
  ev('player_created', 'p1', d1('10:00:00'), { player_wealth: 1000 }),
  ev('login', 'p1', d1('10:05:00'), { status: 'wrong_password', player_wealth: 1000 }),
  ev('login', 'p1', d1('10:06:00'), { status: 'ok', player_wealth: 1000 }),
  ev('join_guild', 'p1', d1('10:10:00'), join_('guild', 'soldiers', 'insufficient_funds', 1000, 5000)),
  ev('join_guild', 'p1', d1('10:20:30'), join_('guild', 'soldiers', 'approved_join', 900, 100)),
  ev('join_guild', 'p1', d1('10:25:00'), join_('guild', 'soldiers', 'already_member', 900, 100)),
  ev('login', 'p1', d1('11:30:00'), { status: 'ok', player_wealth: 900 }),
  ev('join_team', 'p1', d1('11:40:00'), join_('team', 'magicians', 'approved_join', 850, 50)),
  // p2: refused, then approved the next day inside an explicit session of 120 min.
  ev('player_created', 'p2', d1('09:00:00'), { player_wealth: 50 }),
  ev('login', 'p2', d1('09:01:00'), { status: 'ok', player_wealth: 50 }),
  ev('join_team', 'p2', d1('09:02:00'), join_('team', 'magicians', 'insufficient_funds', 50, 100)),
  ev('session_start', 'p2', d2('08:00:00')),
  ev('login', 'p2', d2('09:00:00'), { status: 'ok', player_wealth: 50 }),
  ev('join_team', 'p2', d2('09:10:00'), join_('team', 'magicians', 'approved_join', 50)),
  ev('session_end', 'p2', d2('10:00:00')),
  // p3: joins before logging in (left out of first login → first join), 6 min played.
  ev('player_created', 'p3', d1('12:00:00'), { player_wealth: 7000 }),
  ev('join_guild', 'p3', d1('12:00:10'), join_('guild', 'magicians', 'approved_join', 7000)),
  ev('login', 'p3', d1('12:05:00'), { status: 'ok', player_wealth: 7000 }),
  ev('join_team', 'p3', d1('12:06:00'), join_('team', 'soldiers', 'approved_join', 7000)),
  // p4: also browses with a session_id (seed 004 style); joins 60.5 s after logging in.
  ev('player_created', 'p4', d1('14:00:00'), { player_wealth: 300 }),
  ev('login', 'p4', d1('14:00:00'), { status: 'ok', player_wealth: 300 }),
  ev('join_guild', 'p4', d1('14:01:00.500'), join_('guild', 'soldiers', 'approved_join', 300)),
  ev('page_view', 'p4', d1('14:03:00'), { session_id: 'w-1' }),
  ev('page_view', 'p4', d1('14:50:00'), { session_id: 'w-1' }),
  // p5: a join that does not say it was approved (not a membership); a host 'att' is a substring of.
  ev('player_created', 'p5', d1('15:00:00'), { player_wealth: 20 }),
  ev('join_guild', 'p5', d1('15:00:30'), join_('guild', 'soldiers', null, 20)),
  // v1: a clickstream visitor, no wealth, no host: not a player.
  ev('page_view', 'v1', d1('16:00:00'), { session_id: 'v-1' }),
  ev('page_view', 'v1', d1('16:40:00'), { session_id: 'v-1' }),
  // Another tenant's p1: never in the default tenant's answers.
  ev('player_created', 'p1', d1('10:00:00'), { player_wealth: 1_000_000, host: 'a.cox.net' }, 'acme'),
  ev('login', 'p1', d1('10:00:01'), { status: 'ok', player_wealth: 1_000_000, host: 'a.cox.net' }, 'acme'),
  ev('join_guild', 'p1', d1('10:00:02'), { ...join_('guild', 'soldiers', 'approved_join', 1_000_000), host: 'a.cox.net' }, 'acme'),
]

/** The default tenant's events, as the reports see them. */
const MINE = GAME.filter((e) => e.tenant === undefined)
const ms = (e: FixtureEvent) => Date.parse(e.ts)
const prop = (e: FixtureEvent, k: string) => e.properties?.[k]
const isMembership = (e: FixtureEvent) => (e.event === 'join_guild' || e.event === 'join_team') && prop(e, 'status') === 'approved_join'
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

let dataDir: string
let wh: Warehouse
let app: FastifyInstance

beforeAll(async () => {
  dataDir = tempRoot()
  await writeEvents(join(dataDir, 'warehouse'), GAME)
  wh = await openWarehouse(join(dataDir, 'warehouse'))
  // The fixture's days are long past the default retention, which the server's views apply.
  const config = defaultConfig({ dataDir, keys: [{ key: 'reader', tenant: 'default', scopes: ['read' as const] }], retentionDays: 3650 })
  const ctx = queryRouteContext(config)
  app = Fastify()
  await queryRoutes(app, ctx)
  await app.ready()
})
afterAll(async () => {
  wh.close()
  await app.close()
  rmSync(dataDir, { recursive: true, force: true })
})

const run = (name: string, params: Record<string, string | number | string[]> = {}) => runReport(wh, name, { tenant: 'default', ...params })
const objects = (r: QueryResult) => r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]])))

describe('first_login_to_first_org_join (seed 003)', () => {
  it("mean and median seconds from a player's first successful login to their first approved join", async () => {
    const spans: number[] = []
    for (const user of new Set(MINE.map((e) => e.user_id))) {
      const logins = MINE.filter((e) => e.user_id === user && e.event === 'login' && prop(e, 'status') === 'ok').map(ms)
      const joins = MINE.filter((e) => e.user_id === user && isMembership(e)).map(ms)
      if (logins.length === 0 || joins.length === 0) continue
      const span = (Math.min(...joins) - Math.min(...logins)) / 1000
      if (span >= 0) spans.push(span)
    }
    // p1 870 s (not the refused join at 10:10), p2 a day and 9 min (not the refused one the first day), p4 60.5 s; p3 joined before logging in.
    expect(spans.sort((a, b) => a - b)).toEqual([60.5, 870, 86_940])
    expect(objects(await run('first_login_to_first_org_join'))).toEqual([{ users: 3, mean_seconds: round(mean(spans), 3), median_seconds: median(spans), min_seconds: 60.5, max_seconds: 86_940 }])
  })
})

describe('wealth_by_time_played (seed 003)', () => {
  /** Player → [latest wealth, minutes played], from the reference sessions. */
  function players(): Array<[number, number]> {
    const sessions = referenceSessions(GAME).filter((s) => s.tenant === 'default')
    const out: Array<[number, number]> = []
    for (const user of new Set(MINE.map((e) => e.user_id))) {
      const withWealth = MINE.filter((e) => e.user_id === user && typeof prop(e, 'player_wealth') === 'number').sort((a, b) => ms(a) - ms(b))
      const last = withWealth.at(-1)
      if (last === undefined) continue
      const seconds = sessions.filter((s) => s.user_id === user).reduce((a, s) => a + s.duration, 0)
      out.push([prop(last, 'player_wealth') as number, seconds / 60])
    }
    return out
  }

  function expected(bucketOf: (minutes: number) => [number, number]): unknown[][] {
    const buckets = new Map<number, { below: number; wealth: number[] }>()
    for (const [wealth, minutes] of players()) {
      const [lower, below] = bucketOf(minutes)
      const b = buckets.get(lower) ?? { below, wealth: [] }
      b.wealth.push(wealth)
      buckets.set(lower, b)
    }
    return [...buckets]
      .sort(([a], [b]) => a - b)
      .map(([lower, { below, wealth }]) => [lower, below, wealth.length, Math.min(...wealth), round(median(wealth), 2), Math.max(...wealth), round(mean(wealth), 2)])
  }

  it('buckets players by total session time, powers of ten of minutes by default', async () => {
    // p5 0.5 min, p3 6, p1 25 + 10, p4 1.008 + 47 (a session_id session), p2 2 + 120 (an explicit one); v1 has no wealth.
    expect(
      players()
        .map(([, m]) => round(m, 3))
        .sort((a, b) => a - b),
    ).toEqual([0.5, 6, 35, 48.008, 122])
    const pow10 = (m: number): [number, number] => (m < 1 ? [0, 1] : [10 ** Math.floor(Math.log10(m)), 10 ** (Math.floor(Math.log10(m)) + 1)])
    const want = expected(pow10)
    expect(want).toEqual([
      [0, 1, 1, 20, 20, 20, 20],
      [1, 10, 1, 7000, 7000, 7000, 7000],
      [10, 100, 2, 300, 575, 850, 575],
      [100, 1000, 1, 50, 50, 50, 50],
    ])
    expect((await run('wealth_by_time_played')).rows).toEqual(want)
  })

  it('or in buckets of `width` minutes', async () => {
    const want = expected((m) => [Math.floor(m / 60) * 60, Math.floor(m / 60) * 60 + 60])
    expect(want).toEqual([
      [0, 60, 4, 20, 575, 7000, 2042.5],
      [120, 180, 1, 50, 50, 50, 50],
    ])
    expect((await run('wealth_by_time_played', { width: 60 })).rows).toEqual(want)
  })
})

describe('popular_orgs and avg_wealth_by_org count the same joins', () => {
  it('approved joins only, in both', async () => {
    const joins = MINE.filter(isMembership)
    const popular = objects(await run('popular_orgs'))
    const wealth = objects(await run('avg_wealth_by_org'))
    const orgs = [...new Set(joins.map((e) => prop(e, 'org') as string))].sort()
    // Each org's joins: the same number in both reports, and the number of approved joins.
    for (const org of orgs) {
      const n = joins.filter((e) => prop(e, 'org') === org).length
      expect(
        popular.filter((r) => r.org === org).reduce((a, r) => a + (r.num_joins as number), 0),
        org,
      ).toBe(n)
      expect(wealth.find((r) => r.org === org)?.joins, org).toBe(n)
    }
    expect(wealth).toEqual(
      orgs.map((org) => {
        const w = joins.filter((e) => prop(e, 'org') === org).map((e) => prop(e, 'player_wealth') as number)
        return { org, avg_wealth: round(mean(w), 2), joins: w.length }
      }),
    )
    expect(popular).toEqual([
      { event_type: 'join_guild', org: 'soldiers', num_joins: 2 },
      { event_type: 'join_team', org: 'magicians', num_joins: 2 },
      { event_type: 'join_guild', org: 'magicians', num_joins: 1 },
      { event_type: 'join_team', org: 'soldiers', num_joins: 1 },
    ])
  })
})

describe('events_by_listed_provider (seed 002)', () => {
  /** The report computed here: first listed provider that is one of the host's labels, else 'other'. */
  function expected(list: readonly string[]): Array<Record<string, unknown>> {
    const counts = new Map<string, number>()
    for (const e of MINE) {
      const host = prop(e, 'host')
      if (typeof host !== 'string') continue
      const labels = host
        .trim()
        .toLowerCase()
        .replace(/:[0-9]+$/, '')
        .split('.')
      const provider = list.find((p) => labels.includes(p)) ?? 'other'
      const type = e.event === 'purchase' ? `buy_${String(prop(e, 'kind'))}` : e.event
      const key = `${provider}\u0000${type}`
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    return [...counts]
      .map(([k, events]) => ({ provider: k.split('\u0000')[0], event_type: k.split('\u0000')[1], events }))
      .sort((a, b) => (a.provider! < b.provider! ? -1 : a.provider! > b.provider! ? 1 : b.events - a.events || (a.event_type! < b.event_type! ? -1 : 1)))
  }

  it("defaults to seed 002's list, which is the simulator's", async () => {
    expect(DEFAULT_PROVIDERS).toEqual(PROVIDERS)
    expect(getReport('events_by_listed_provider')?.params.find((p) => p.name === 'providers')?.default).toBe('comcast,att,google,frontier,cox,earthlink')
    const want = expected(DEFAULT_PROVIDERS)
    // Whole labels: user2.ATT.net:8080 is att, p5.seattle.net is not; an IP address names no provider.
    expect(new Set(want.map((r) => r.provider))).toEqual(new Set(['comcast', 'att', 'google', 'other']))
    expect(objects(await run('events_by_listed_provider'))).toEqual(want)
  })

  it('takes the list as a parameter: comma-separated, trimmed, any case; first listed match wins', async () => {
    expect(objects(await run('events_by_listed_provider', { providers: ' Seattle , GOOGLE' }))).toEqual(expected(['seattle', 'google']))
    expect(objects(await run('events_by_listed_provider', { providers: ['net', 'att'] }))).toEqual(expected(['net', 'att']))
    expect(objects(await run('events_by_listed_provider', { providers: '' }))).toEqual(expected(DEFAULT_PROVIDERS))
  })

  it('refuses malformed lists with the reason', async () => {
    await expect(run('events_by_listed_provider', { providers: 'comcast,,att' })).rejects.toThrow('parameter "providers" has an empty name')
    await expect(run('events_by_listed_provider', { providers: 'att.net' })).rejects.toThrow('"att.net" is not a name')
    await expect(run('events_by_listed_provider', { providers: Array.from({ length: 101 }, (_, i) => `p${i}`).join(',') })).rejects.toThrow('at most 100 names')
    await expect(run('wealth_by_time_played', { width: ['1', '2'] })).rejects.toBeInstanceOf(ReportParamError)
  })
})

describe('GET /v1/reports/:name with the new parameters', () => {
  const get = (url: string) => app.inject({ url, headers: { authorization: 'Bearer reader' } })

  it('passes the provider list, also as a repeated key', async () => {
    const one = await get('/v1/reports/events_by_listed_provider?providers=att,google')
    expect(one.statusCode).toBe(200)
    const repeated = await get('/v1/reports/events_by_listed_provider?providers=att&providers=google')
    expect(repeated.json<{ rows: unknown }>().rows).toEqual(one.json<{ rows: unknown }>().rows)
    expect(new Set(one.json<{ rows: unknown[][] }>().rows.map((r) => r[0]))).toEqual(new Set(['att', 'google', 'other']))
  })

  it('400 invalid_query naming the parameter', async () => {
    const bad = await get('/v1/reports/events_by_listed_provider?providers=a%20b')
    expect(bad.statusCode).toBe(400)
    expect(bad.json()).toEqual({ error: { code: 'invalid_query', message: 'parameter "providers": "a b" is not a name (letters, digits, "-" and "_", at most 63 characters)', field: 'providers' } })
    const twice = await get('/v1/reports/wealth_by_time_played?width=1&width=2')
    expect(twice.statusCode).toBe(400)
    expect(twice.json<{ error: { field: string } }>().error.field).toBe('width')
  })
})
