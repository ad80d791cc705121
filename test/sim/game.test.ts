import { describe, expect, it } from 'vitest'
import { LIST_PRICE, PROVIDERS, encodeGameBody, gameRequests, resolveGameOptions, type GameRequest } from '../../src/sim/index.ts'

function take(n: number, options: Parameters<typeof gameRequests>[0] = {}): GameRequest[] {
  const it = gameRequests(options)
  return Array.from({ length: n }, () => it.next().value as GameRequest)
}

/** Replays the calls the way the Game API decides them, from the bodies alone. */
function referee(requests: GameRequest[]) {
  const wealth = new Map<string, number>()
  const orgs = new Map<string, Set<string>>()
  const verdicts: string[] = []
  for (const r of requests) {
    const b = r.body
    if (r.path === '/game/players') {
      wealth.set(r.player, Math.round(Number(b.wealth) * 100))
      orgs.set(r.player, new Set())
      verdicts.push('created')
      continue
    }
    if (r.path === '/game/login') {
      verdicts.push('ok')
      continue
    }
    const have = wealth.get(r.player)!
    if (r.path.startsWith('/game/join')) {
      const kind = r.path === '/game/join_a_guild' ? 'guild' : r.path.slice('/game/join/'.length)
      const key = `${kind}:${b.org}`
      const cost = Math.round(Number(b.cost ?? 0) * 100)
      if (orgs.get(r.player)!.has(key)) verdicts.push('already_member')
      else if (have < cost) verdicts.push('insufficient_funds')
      else {
        orgs.get(r.player)!.add(key)
        wealth.set(r.player, have - cost)
        verdicts.push('ok')
      }
      continue
    }
    const item = r.path.split('/').at(-1)!
    const cost = Math.round(Number(b.cost ?? LIST_PRICE[item]) * 100)
    if (have < cost) verdicts.push('insufficient_funds')
    else {
      wealth.set(r.player, have - cost)
      verdicts.push('ok')
    }
  }
  return { wealth, verdicts }
}

describe('game generator (seeds 002/003)', () => {
  const requests = take(5_000, { players: 30, sessions: 8 })

  it('is deterministic: the same seed gives the same calls, another seed others', () => {
    expect(take(5_000, { players: 30, sessions: 8 })).toEqual(requests)
    expect(take(5_000, { players: 30, sessions: 8, seed: 9 })).not.toEqual(requests)
  })

  it('registers a player first, logs in before acting, and keeps one host per player', () => {
    const seen = new Map<string, { registered: boolean; loggedIn: boolean; host: string }>()
    for (const r of requests) {
      const p = seen.get(r.player)
      if (!p) {
        expect(r.path).toBe('/game/players')
        seen.set(r.player, { registered: true, loggedIn: false, host: r.host })
        continue
      }
      expect(r.host).toBe(p.host)
      if (r.path === '/game/login') p.loggedIn = true
      else expect(p.loggedIn).toBe(true)
    }
    for (const [id, p] of seen) expect(p.host).toMatch(new RegExp(`^user${id.slice(1)}\\.(${PROVIDERS.join('|')})\\.com$`))
    expect(new Set([...seen.values()].map((p) => p.host.split('.')[1])).size).toBeGreaterThan(3)
  })

  it("uses every route, form and JSON bodies, and seed 003's field aliases in forms", () => {
    const routes = new Set(requests.map((r) => r.path.replace(/\/(buy|purchase|join)\/.*/, '/$1/:x')))
    expect([...routes].sort()).toEqual(['/game/buy/:x', '/game/join/:x', '/game/join_a_guild', '/game/login', '/game/players', '/game/purchase/:x'])
    const forms = requests.filter((r) => r.form)
    expect(forms.length / requests.length).toBeGreaterThan(0.4)
    expect(forms.length / requests.length).toBeLessThan(0.6)
    const reg = forms.find((r) => r.path === '/game/players')!
    expect(Object.keys(reg.body).sort()).toEqual(['userid', 'username', 'userpwd', 'wealth'])
    expect(encodeGameBody(reg)).toEqual({
      contentType: 'application/x-www-form-urlencoded',
      body: `userid=${reg.player}&username=${reg.body.username}&userpwd=${reg.body.userpwd}&wealth=${reg.body.wealth}`,
    })
    const json = requests.find((r) => !r.form && r.path.startsWith('/game/buy/'))!
    expect(JSON.parse(encodeGameBody(json).body)).toEqual(json.body)
    expect(json.userAgent).toBe('ApacheBench/2.3')
  })

  it('predicts every answer as the Game API decides it: approvals, 402s and 409s', () => {
    const { verdicts } = referee(requests)
    expect(requests.map((r) => r.expect)).toEqual(verdicts)
    const count = (s: string) => verdicts.filter((v) => v === s).length
    expect(count('insufficient_funds')).toBeGreaterThan(0)
    expect(count('already_member')).toBeGreaterThan(0)
    expect(count('ok')).toBeGreaterThan(count('insufficient_funds'))
  })

  it('replaces players who run out of money with new ones', () => {
    const long = take(30_000, { players: 10, sessions: 4 })
    const players = new Set(long.map((r) => r.player))
    expect(players.size).toBeGreaterThan(10)
    expect(referee(long).verdicts).toEqual(long.map((r) => r.expect))
  })

  it("refuses bad options with the option's name", () => {
    expect(() => resolveGameOptions({ players: 0 })).toThrow('players must be an integer from 1 to 10000000, got 0')
    expect(() => resolveGameOptions({ sessions: -2 })).toThrow('sessions must be an integer from 1 to 100000, got -2')
  })
})
