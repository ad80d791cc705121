import { describe, expect, it } from 'vitest'
import { useTestServer } from '../api/harness.ts'
import { call, errorOf, get, logEvents, playerOf, post, uniqueName } from './helpers.ts'

describe('game API: players over HTTP', () => {
  const s = useTestServer()

  it('registers a player with defaults and answers 201 without the hash', async () => {
    const name = uniqueName('dirk')
    const r = await post(s, '/game/players', { name, password: 'blahdh' })
    expect(r.status).toBe(201)
    const p = playerOf(r)
    expect(p).toMatchObject({ name, wealth: 1000, health: 100, inventory: [], affiliations: [], version: 1 })
    expect(p.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/)
    expect(Math.abs(p.created - Date.now())).toBeLessThan(10_000)
    expect(r.text).not.toContain('password')
    expect(r.text).not.toContain('blahdh')
    expect(r.text).not.toContain('scrypt')
  })

  it("accepts seed 003's form body: userid, username, userpwd, wealth", async () => {
    const name = uniqueName('merly')
    const r = await post(s, '/game/players', `userid=987611&userpwd=yahbadaba&username=${name}&wealth=98712`, { form: true })
    expect(r.status).toBe(201)
    expect(playerOf(r)).toMatchObject({ id: '987611', name, wealth: 98712 })
    const again = await post(s, '/game/players', { userid: '987611', name: uniqueName(), password: 'pw-1234' })
    expect(again.status).toBe(409)
    expect(errorOf(again)).toMatchObject({ code: 'duplicate_id', field: 'id' })
  })

  it('refuses a duplicate name with 409, in its tenant only', async () => {
    const name = uniqueName('twin')
    expect((await post(s, '/game/players', { name, password: 'first-pw' })).status).toBe(201)
    const dup = await post(s, '/game/players', { name, password: 'second-pw' })
    expect(dup.status).toBe(409)
    expect(errorOf(dup)).toEqual({ code: 'duplicate_name', message: `a player named "${name}" already exists`, field: 'name' })
    // Another tenant's key sees other players: the same name is free there.
    expect((await post(s, '/game/players', { name, password: 'acme-pw' }, { key: s.keys.acme })).status).toBe(201)
  })

  it('serialises concurrent registrations of one name: exactly one wins', async () => {
    const name = uniqueName('race')
    const answers = await Promise.all(Array.from({ length: 8 }, () => post(s, '/game/players', { name, password: 'pw-race' })))
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409])
  })

  it('logs a player in by name (JSON or form) and emits login events, also for a wrong password', async () => {
    const name = uniqueName('login')
    const id = playerOf(await post(s, '/game/players', { name, password: 'right-pw' })).id
    const ok = await post(s, '/game/login', { name, password: 'right-pw' })
    expect(ok.status).toBe(200)
    expect(playerOf(ok)).toMatchObject({ id, name })
    expect((await post(s, '/game/login', `username=${name}&userpwd=right-pw`, { form: true })).status).toBe(200)
    const wrong = await post(s, '/game/login', { name, password: 'wrong-pw' })
    expect(wrong.status).toBe(401)
    expect(errorOf(wrong)).toEqual({ code: 'wrong_password', message: 'wrong password', field: 'password' })
    const events = await logEvents(s, id)
    expect(events.map((e) => [e.event, e.properties.status ?? null])).toEqual([
      ['player_created', null],
      ['login', 'ok'],
      ['login', 'ok'],
      ['login', 'wrong_password'],
    ])
    for (const e of events) expect(JSON.stringify(e)).not.toMatch(/right-pw|wrong-pw|scrypt|password_hash|"password"/)
  })

  it('answers 404 unknown_player for a login of nobody', async () => {
    const r = await post(s, '/game/login', { name: 'nobody-at-all', password: 'whatever' })
    expect(r.status).toBe(404)
    expect(errorOf(r)).toEqual({ code: 'unknown_player', message: 'no player named "nobody-at-all"', field: 'player' })
  })

  it('reads a player by id or by ?name= with a read key, never the hash', async () => {
    const name = uniqueName('reader')
    const id = playerOf(await post(s, '/game/players', { name, password: 'reader-pw', wealth: 5 })).id
    for (const path of [`/game/players/${id}`, `/game/players?name=${name}`, `/game/players?id=${id}`]) {
      const r = await get(s, path)
      expect(r.status).toBe(200)
      expect(playerOf(r)).toMatchObject({ id, name, wealth: 5 })
      expect(r.text).not.toMatch(/password|scrypt/)
    }
    expect(errorOf(await get(s, '/game/players/no-such-id'))).toMatchObject({ code: 'unknown_player' })
    expect((await get(s, '/game/players/no-such-id')).status).toBe(404)
    const noQuery = await get(s, '/game/players')
    expect(noQuery.status).toBe(400)
    expect(errorOf(noQuery)).toMatchObject({ code: 'missing_field', field: 'name' })
    // Tenants are apart: acme cannot see a default-tenant player.
    expect((await get(s, `/game/players/${id}`, s.keys.acme)).status).toBe(404)
  })

  it('needs a key (401), the write scope for actions and the read scope for reads (403)', async () => {
    const none = await call(s, 'POST', '/game/players', '{"name":"x","password":"pw-1234"}', { 'content-type': 'application/json' })
    expect(none.status).toBe(401)
    const unknown = await post(s, '/game/players', { name: 'x', password: 'pw-1234' }, { key: 'no-such-key' })
    expect(unknown.status).toBe(401)
    expect(errorOf(unknown).code).toBe('unauthorized')
    for (const path of ['/game/players', '/game/login', '/game/buy/sword', '/game/purchase/sword', '/game/join/guild', '/game/join_a_guild']) {
      const r = await post(s, path, { name: 'x', password: 'pw-1234' }, { key: s.keys.read })
      expect([path, r.status, errorOf(r).code]).toEqual([path, 403, 'forbidden'])
    }
    expect((await get(s, '/game/players?name=x', s.keys.write)).status).toBe(403)
  })

  it('refuses missing fields with the field named', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ password: 'pw-1234' }, 'name'],
      [{ name: 'lonely' }, 'password'],
    ]
    for (const [body, field] of cases) {
      const r = await post(s, '/game/players', body)
      expect([r.status, errorOf(r).code, errorOf(r).field]).toEqual([400, 'missing_field', field])
    }
    const login = await post(s, '/game/login', { password: 'pw-1234' })
    expect([login.status, errorOf(login).code, errorOf(login).field]).toEqual([400, 'missing_field', 'player'])
    const empty = await post(s, '/game/players', '', { form: true })
    expect([empty.status, errorOf(empty).field]).toEqual([400, 'name'])
  })

  it('refuses malformed, empty, oversized, non-object and unsupported bodies with precise codes', async () => {
    const bad: Array<[string, string, number, string]> = [
      ['{"name":"x",', 'application/json', 400, 'invalid_json'],
      ['', 'application/json', 400, 'invalid_json'],
      ['{"name":"x","password":"pw-1234","__proto__":{"admin":true}}', 'application/json', 400, 'invalid_json'],
      ['[1,2]', 'application/json', 400, 'invalid_body'],
      ['"dirk"', 'application/json', 400, 'invalid_body'],
      [JSON.stringify({ name: 'big', password: 'x'.repeat(20_000) }), 'application/json', 413, 'payload_too_large'],
      [`name=big&password=${'x'.repeat(20_000)}`, 'application/x-www-form-urlencoded', 413, 'payload_too_large'],
      ['<player/>', 'application/xml', 415, 'unsupported_media_type'],
    ]
    for (const [body, type, status, code] of bad) {
      const r = await post(s, '/game/players', body, { headers: { 'content-type': type } })
      expect([type, body.slice(0, 20), r.status, errorOf(r).code]).toEqual([type, body.slice(0, 20), status, code])
    }
  })

  it('refuses bad wealth and names the field', async () => {
    for (const wealth of ['abc', -5, '1e400']) {
      const r = await post(s, '/game/players', { name: uniqueName(), password: 'pw-1234', wealth })
      expect([r.status, errorOf(r).code, errorOf(r).field]).toEqual([400, 'invalid_field', 'wealth'])
    }
    const huge = await post(s, '/game/players', `{"name":"${uniqueName()}","password":"pw-1234","wealth":1e400}`)
    expect([huge.status, errorOf(huge).message]).toEqual([400, 'wealth must be a finite number'])
  })

  it("leaves the collector's own body handling alone (form parser scoped to /game)", async () => {
    const r = await post(s, '/v1/track', 'event=spin&user_id=u1', { form: true })
    expect(r.status).not.toBe(200)
    expect(r.status).toBeGreaterThanOrEqual(400)
  })

  it('documents the game routes in OpenAPI, with JSON and form bodies', async () => {
    const r = await call(s, 'GET', '/docs/json', undefined, {})
    const paths = r.json.paths as Record<string, Record<string, { tags?: string[]; requestBody?: { content: Record<string, unknown> } }>>
    for (const path of ['/game/players', '/game/login', '/game/buy/{kind}', '/game/purchase/{item_name}', '/game/join/{kind}', '/game/join_a_guild']) {
      expect(paths[path]?.post?.tags, path).toEqual(['game'])
      expect(Object.keys(paths[path]!.post!.requestBody!.content).sort(), path).toEqual(['application/json', 'application/x-www-form-urlencoded'])
    }
    expect(paths['/game/players/{id}']?.get).toBeDefined()
  })
})
