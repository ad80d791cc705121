import { describe, expect, it } from 'vitest'
import { gameEvent, playerState, requestInfo } from '../../src/game/events.ts'
import { decideBuy, decideJoin, publicPlayer } from '../../src/game/players.ts'
import type { PlayerRecord } from '../../src/players/player-store.ts'

const T = Date.UTC(2026, 10, 22, 12)
const player = (over: Partial<PlayerRecord> = {}): PlayerRecord => ({
  id: 'p1',
  tenant: 'default',
  name: 'dirk',
  password_hash: 'scrypt$16384$8$1$salt$hash',
  wealth: 100,
  health: 100,
  created: T,
  inventory: [],
  affiliations: [],
  version: 1,
  ...over,
})
const ref = { by: 'id' as const, value: 'p1' }

describe('purchase and join decisions', () => {
  it('deducts, adds the item and bumps the version when the player can pay, to the cent', () => {
    const d = decideBuy(player({ wealth: 0.3 }), { player: ref, kind: 'potion', type: 'elixir', cost: 0.1 }, T + 1)
    expect('write' in d && d.write).toMatchObject({ wealth: 0.2, version: 2, inventory: [{ kind: 'potion', type: 'elixir', cost: 0.1, bought_at: T + 1 }] })
    expect('write' in d && d.result).toMatchObject({ status: 'approved_purchase', at: T + 1 })
  })

  it('lets a player spend exactly everything, and refuses one cent more without writing', () => {
    expect('write' in decideBuy(player(), { player: ref, kind: 'sword', type: 's', cost: 100 }, T)).toBe(true)
    const refused = decideBuy(player(), { player: ref, kind: 'sword', type: 's', cost: 100.01 }, T)
    expect(refused).toEqual({ refuse: { status: 'insufficient_funds', player: player(), at: T } })
  })

  it('joins once per org and kind, paying the cost', () => {
    const req = { player: ref, kind: 'guild' as const, org: 'soldiers', level: 'masterofarms', cost: 60 }
    const d = decideJoin(player(), req, T)
    expect('write' in d && d.write).toMatchObject({ wealth: 40, version: 2, affiliations: [{ kind: 'guild', org: 'soldiers', level: 'masterofarms', joined_at: T }] })
    const member = player({ affiliations: [{ kind: 'guild', org: 'soldiers', level: 'recruit', joined_at: T }] })
    expect(decideJoin(member, req, T)).toMatchObject({ refuse: { status: 'already_member' } })
    expect('write' in decideJoin(member, { ...req, kind: 'team' }, T)).toBe(true)
    expect(decideJoin(player(), { ...req, cost: 101 }, T)).toMatchObject({ refuse: { status: 'insufficient_funds' } })
  })

  it('never shows the password hash', () => {
    const p = publicPlayer(player())
    expect(p).not.toHaveProperty('password_hash')
    expect(JSON.stringify(p)).not.toContain('scrypt')
  })
})

describe('game events', () => {
  it('reads host, user agent and accept from the headers, bounded', () => {
    expect(requestInfo({ host: 'user46.earthlink.com', 'user-agent': 'ApacheBench/2.3', accept: '*/*' })).toEqual({ host: 'user46.earthlink.com', user_agent: 'ApacheBench/2.3', accept: '*/*' })
    expect(requestInfo({})).toEqual({})
    expect(requestInfo({ 'user-agent': 'x'.repeat(5000) }).user_agent).toHaveLength(1024)
  })

  it("carries the player's state after the action, flat, and never the hash", () => {
    const p = player({ wealth: 70, version: 2, inventory: [{ kind: 'sword', type: 's', cost: 30, bought_at: T }] })
    expect(playerState(p)).toEqual({
      player_name: 'dirk',
      player_created: '2026-11-22T12:00:00.000Z',
      player_wealth: 70,
      player_health: 100,
      player_num_items: 1,
      player_num_affiliations: 0,
      player_version: 2,
    })
    const raw = gameEvent('purchase', p, { kind: 'sword', status: 'approved_purchase' }, { host: 'h' }, T)
    expect(raw).toMatchObject({ event: 'purchase', user_id: 'p1', ts: T, host: 'h', kind: 'sword', status: 'approved_purchase', player_wealth: 70 })
    expect(JSON.stringify(raw)).not.toContain('scrypt')
  })
})
