import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../api/harness.ts'
import { errorOf, logEvents, playerOf, post, uniqueName, type PlayerJson } from './helpers.ts'

const BROWSER = { host: 'user46.earthlink.com', 'user-agent': 'ApacheBench/2.3', accept: '*/*' }

describe('game API: purchases and joins over HTTP', () => {
  let s: TestServer
  const register = async (wealth = 1000, name = uniqueName()): Promise<PlayerJson> => {
    const r = await post(s, '/game/players', { name, password: 'pw-secret-1', wealth })
    expect(r.status).toBe(201)
    return playerOf(r)
  }
  beforeAll(async () => {
    s = await startTestServer()
  })
  afterAll(async () => {
    await s?.close()
  })

  it('buys an item: deducts, adds it to the inventory, emits one enriched purchase event', async () => {
    const p = await register(12345)
    const r = await post(s, '/game/buy/sword', `userid=${p.id}&type=cutlass&cost=5000`, { form: true, headers: BROWSER })
    expect(r.status).toBe(200)
    expect(r.json).toMatchObject({ status: 'approved_purchase', item: { kind: 'sword', type: 'cutlass', cost: 5000 } })
    expect(playerOf(r)).toMatchObject({ wealth: 7345, version: 2, inventory: [{ kind: 'sword', type: 'cutlass', cost: 5000 }] })
    const [created, bought] = await logEvents(s, p.id)
    expect(created!.event).toBe('player_created')
    expect(bought).toMatchObject({
      event: 'purchase',
      user_id: p.id,
      tenant: 'default',
      properties: {
        host: 'user46.earthlink.com',
        user_agent: 'ApacheBench/2.3',
        accept: '*/*',
        kind: 'sword',
        type: 'cutlass',
        cost: 5000,
        status: 'approved_purchase',
        amount: 5000,
        player_name: p.name,
        player_created: new Date(p.created).toISOString(),
        player_wealth: 7345,
        player_num_items: 1,
        player_num_affiliations: 0,
        player_version: 2,
      },
    })
    expect(Math.abs(bought!.ts - Date.now())).toBeLessThan(10_000)
  })

  it('refuses a purchase the player cannot afford with 402, and still emits the event', async () => {
    const p = await register(100)
    const r = await post(s, '/game/buy/sword', { player: p.name, type: 'longsword', cost: 10000 })
    expect(r.status).toBe(402)
    expect(errorOf(r)).toEqual({ code: 'insufficient_funds', message: 'insufficient funds: the player has 100, the cost is 10000', field: 'cost' })
    const events = await logEvents(s, p.id)
    expect(events.map((e) => e.event)).toEqual(['player_created', 'purchase'])
    expect(events[1]!.properties).toMatchObject({ status: 'insufficient_funds', type: 'longsword', cost: 10000, player_wealth: 100, player_num_items: 0 })
    // Refused purchases carry no amount: they must not count in total_purchases.
    expect(events[1]!.properties).not.toHaveProperty('amount')
  })

  it('seed 002: POST /purchase/:item_name pays the list price; an unpriced item needs a cost', async () => {
    const p = await register(1000)
    const knife = await post(s, '/game/purchase/knife', { player: p.id })
    expect(knife.status).toBe(200)
    expect(knife.json).toMatchObject({ item: { kind: 'knife', type: 'knife', cost: 20 } })
    const cutlass = await post(s, '/game/purchase/cutlass', { player: p.id })
    expect([cutlass.status, errorOf(cutlass).code, errorOf(cutlass).field]).toEqual([400, 'missing_field', 'cost'])
    const priced = await post(s, '/game/purchase/cutlass', { player: p.id, cost: 777 })
    expect(playerOf(priced).wealth).toBe(203)
  })

  it('refuses bad costs, bad kinds, unknown players and missing players with precise 4xx', async () => {
    const p = await register(1000)
    const cases: Array<[string, string, number, string, string | undefined]> = [
      ['/game/buy/sword', `{"player":"${p.id}","cost":"abc"}`, 400, 'invalid_field', 'cost'],
      ['/game/buy/sword', `{"player":"${p.id}","cost":-5}`, 400, 'invalid_field', 'cost'],
      ['/game/buy/sword', `{"player":"${p.id}","cost":1e400}`, 400, 'invalid_field', 'cost'],
      ['/game/buy/sword', `{"player":"${p.id}","cost":[1,2]}`, 400, 'invalid_field', 'cost'],
      ['/game/buy/Sword', `{"player":"${p.id}","cost":1}`, 400, 'invalid_kind', 'kind'],
      [`/game/buy/${'a'.repeat(33)}`, `{"player":"${p.id}","cost":1}`, 400, 'invalid_kind', 'kind'],
      ['/game/buy/sword', '{"cost":1}', 400, 'missing_field', 'player'],
      ['/game/buy/sword', '{"player":"nobody-here","cost":1}', 404, 'unknown_player', 'player'],
      ['/game/join/party', `{"player":"${p.id}","org":"x","level":"y"}`, 400, 'invalid_kind', 'kind'],
      ['/game/join/guild', `{"player":"${p.id}","level":"y"}`, 400, 'missing_field', 'org'],
      ['/game/join/guild', `{"player":"${p.id}","org":"x"}`, 400, 'missing_field', 'level'],
      ['/game/join/guild', `{"player":"${p.id}","org":"x","level":"y","cost":"-1"}`, 400, 'invalid_field', 'cost'],
    ]
    for (const [path, body, status, code, field] of cases) {
      const r = await post(s, path, body)
      expect([path, body, r.status, errorOf(r).code, errorOf(r).field]).toEqual([path, body, status, code, field])
    }
    // None of the refusals above was an action: the player's only event is its creation.
    expect((await logEvents(s, p.id)).map((e) => e.event)).toEqual(['player_created'])
    const after = await post(s, '/game/login', { player: p.id, password: 'pw-secret-1' })
    expect(playerOf(after)).toMatchObject({ wealth: 1000, version: 1 })
  })

  it('joins a guild and a team (paying the cost), refuses a second join and an unaffordable one', async () => {
    const p = await register(10000)
    const guild = await post(s, '/game/join/guild', `userid=${p.id}&org=soldiers&level=masterofarms&cost=9999`, { form: true, headers: BROWSER })
    expect(guild.status).toBe(200)
    expect(guild.json).toMatchObject({ status: 'approved_join', affiliation: { kind: 'guild', org: 'soldiers', level: 'masterofarms' } })
    expect(playerOf(guild)).toMatchObject({ wealth: 1, version: 2 })
    const team = await post(s, '/game/join/team', { player: p.name, org: 'team ABCD', level: 'rookie' })
    expect(playerOf(team).affiliations.map((a) => [a.kind, a.org])).toEqual([
      ['guild', 'soldiers'],
      ['team', 'team ABCD'],
    ])
    const again = await post(s, '/game/join_a_guild', { player: p.id, org: 'soldiers', level: 'recruit' })
    expect([again.status, errorOf(again).code, errorOf(again).field]).toEqual([409, 'already_member', 'org'])
    const poor = await post(s, '/game/join_a_guild', { player: p.id, org: 'magicians', level: 'accolyte', cost: 99 })
    expect([poor.status, errorOf(poor).code]).toEqual([402, 'insufficient_funds'])
    const events = (await logEvents(s, p.id)).slice(1)
    expect(events.map((e) => [e.event, e.properties.status, e.properties.org])).toEqual([
      ['join_guild', 'approved_join', 'soldiers'],
      ['join_team', 'approved_join', 'team ABCD'],
      ['join_guild', 'already_member', 'soldiers'],
      ['join_guild', 'insufficient_funds', 'magicians'],
    ])
    expect(events[0]!.properties).toMatchObject({
      host: 'user46.earthlink.com',
      user_agent: 'ApacheBench/2.3',
      accept: '*/*',
      kind: 'guild',
      level: 'masterofarms',
      cost: 9999,
      player_wealth: 1,
      player_num_affiliations: 1,
      player_num_items: 0,
    })
    expect(events[1]!.properties).toMatchObject({ cost: 0, player_num_affiliations: 2 })
  })

  it('never overspends: 100 concurrent purchases of 30 on 1000 → 33 approved, 67 refused, 10 left', async () => {
    const p = await register(1000)
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => post(s, '/game/buy/potion', { player: p.id, type: `potion${i}`, cost: 30 })))
    const statuses = answers.map((a) => a.status)
    expect(statuses.filter((x) => x === 200)).toHaveLength(33)
    expect(statuses.filter((x) => x === 402)).toHaveLength(67)
    const final = playerOf(await post(s, '/game/login', { player: p.id, password: 'pw-secret-1' }))
    expect(final).toMatchObject({ wealth: 10, version: 34 })
    expect(final.inventory).toHaveLength(33)
    const events = (await logEvents(s, p.id)).filter((e) => e.event === 'purchase')
    expect(events).toHaveLength(100)
    const approved = events.filter((e) => e.properties.status === 'approved_purchase')
    expect(approved).toHaveLength(33)
    expect(events.filter((e) => e.properties.status === 'insufficient_funds')).toHaveLength(67)
    // Each approved event carries the state its own transaction left: wealth 970, 940, … 10, once each.
    expect(approved.map((e) => e.properties.player_wealth).sort((a, b) => Number(b) - Number(a))).toEqual(Array.from({ length: 33 }, (_, i) => 1000 - 30 * (i + 1)))
    expect(new Set(approved.map((e) => e.properties.player_version)).size).toBe(33)
    expect(approved.reduce((sum, e) => sum + Number(e.properties.amount), 0)).toBe(990)
  })

  it('feeds the engine: host and user agent become traits, approved amounts total_purchases', async () => {
    const p = await register(500)
    await post(s, '/game/buy/sword', { player: p.id, type: 'saber', cost: 200 }, { headers: BROWSER })
    await post(s, '/game/buy/sword', { player: p.id, type: 'saber', cost: 400 }, { headers: BROWSER })
    const deadline = Date.now() + 15_000
    let profile = await s.ctx.engine.profile('default', p.id)
    while ((profile?.traits.event_count ?? 0) < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50))
      profile = await s.ctx.engine.profile('default', p.id)
    }
    expect(profile?.traits).toMatchObject({ event_count: 3, total_purchases: 200, host: 'user46.earthlink.com', user_agent: 'ApacheBench/2.3' })
  })

  it('never writes the password or its hash into a response or an event', async () => {
    const secret = 'hunter2-very-secret'
    const name = uniqueName('secret')
    const answers = [
      await post(s, '/game/players', { name, password: secret }),
      await post(s, '/game/login', { name, password: secret }),
      await post(s, '/game/login', { name, password: 'not-the-secret' }),
      await post(s, '/game/buy/potion', { player: name }),
      await post(s, '/game/join/team', { player: name, org: 'o', level: 'l' }),
    ]
    for (const a of answers) expect(a.text).not.toMatch(/hunter2|not-the-secret|scrypt|password_hash/)
    const all = JSON.stringify(await logEvents(s))
    expect(all).not.toMatch(/hunter2|not-the-secret|scrypt\$|password_hash/)
  })
})
