/**
 * Event streams and player notifications end to end on the real server (docs/streams.md): events
 * in over POST /v1/events and the game routes; the engine's copies out over SSE; `emit: player`
 * triggers into players' inboxes, read at login, marked delivered, erased with the person.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOPICS } from '../../src/log/event-log.ts'
import { auth, startTestServer, type TestServer } from './harness.ts'
import { Tails, type Tail } from './sse-tail.ts'
import { until } from '../support/until.ts'

const RULES = `
streams:
  progress: { events: [level_up], description: levels }
  social: { events: [join_guild] }
segments:
  spinner:
    when: count(spin, 1h) >= 3
triggers:
  level_note:
    on: level_up
    when: level >= 2
    emit: player
    message: "You reached level {level}, {name}!"
  plain:
    on: level_up
`

let s: TestServer
const tails = new Tails(() => s.url)

beforeAll(async () => {
  s = await startTestServer({ sseHeartbeatMs: 150 }, RULES)
})
afterAll(async () => {
  tails.closeAll()
  await s?.close()
})

const open = (path: string, key: string, headers: Record<string, string> = {}): Promise<Tail> => tails.open(path, key, headers)

const send = async (key: string, events: Array<Record<string, unknown>>) => {
  const res = await fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: JSON.stringify(events) })
  if (res.status !== 200) throw new Error(`POST /v1/events answered ${res.status}: ${await res.text()}`)
}

const get = async (key: string, path: string) => fetch(`${s.url}${path}`, { headers: auth(key) })
const inbox = async (key: string, user: string) => ((await (await get(key, `/v1/profiles/${user}/inbox`)).json()) as { messages: Array<{ id: string; message: string; trigger: string }> }).messages

describe('event streams', () => {
  it("lists the defaults and the rules file's streams, with their logs", async () => {
    const res = await get(s.keys.read, '/v1/event-streams')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      streams: [
        { name: 'buy', topic: 'buy-events', events: ['purchase', 'in_app_purchase'], path: '/v1/event-streams/buy', description: 'commercial events: purchases and in-app purchases' },
        { name: 'social', topic: 'social-events', events: ['join_guild'], path: '/v1/event-streams/social' },
        { name: 'progress', topic: 'progress-events', events: ['level_up'], path: '/v1/event-streams/progress', description: 'levels' },
      ],
    })
    expect((await get(s.keys.write, '/v1/event-streams')).status).toBe(403)
    const unknown = await get(s.keys.read, '/v1/event-streams/all')
    expect(unknown.status).toBe(404)
    expect(((await unknown.json()) as { error: { code: string; message: string } }).error).toEqual({
      code: 'unknown_stream',
      message: 'no event stream "all"; this server has buy, social, progress (GET /v1/event-streams)',
      field: 'stream',
    })
  })

  it("streams only the class's events of the key's tenant, in order, and resumes from a cursor", async () => {
    const buys = await open('/v1/event-streams/buy', s.keys.read)
    const social = await open('/v1/event-streams/social?event=join_guild', s.keys.read)
    const ts = Date.now()
    await send(s.keys.write, [
      { event: 'purchase', user_id: 'es-1', ts, amount: 5, item: 'sword', event_id: 'es-p1' },
      { event: 'spin', user_id: 'es-1', ts: ts + 1 },
      { event: 'join_guild', user_id: 'es-2', ts: ts + 2, org: 'hawks', event_id: 'es-j1' },
      { event: 'join_team', user_id: 'es-2', ts: ts + 3 },
      { event: 'in_app_purchase', user_id: 'es-1', ts: ts + 4, amount: 0.99, event_id: 'es-p2' },
    ])
    await send(s.keys.acme, [{ event: 'purchase', user_id: 'es-1', ts, amount: 7, event_id: 'acme-p1' }])
    await buys.untilEvents(2)
    await social.untilEvents(1)
    expect(buys.events.map((e) => [e.event, e.record.event_id, e.record.user_id, e.record.tenant, e.record.stream])).toEqual([
      ['event', 'es-p1', 'es-1', 'default', 'buy'],
      ['event', 'es-p2', 'es-1', 'default', 'buy'],
    ])
    expect(buys.events[0]!.record).toMatchObject({ event: 'purchase', at: ts, properties: { amount: 5, item: 'sword' } })
    expect(typeof buys.events[0]!.record.received_at).toBe('number')
    expect(social.events.map((e) => [e.record.event, e.record.properties])).toEqual([['join_guild', { org: 'hawks' }]])
    // A cursor of this stream resumes after it; another stream's is refused, naming it.
    const first = buys.events[0]!.id
    expect(first.startsWith('v1.e-buy.')).toBe(true)
    const resumed = await open('/v1/event-streams/buy', s.keys.read, { 'last-event-id': first })
    await resumed.untilEvents(1)
    expect(resumed.events.map((e) => e.record.event_id)).toEqual(['es-p2'])
    const wrong = await get(s.keys.read, `/v1/event-streams/social?from=${first}`)
    expect(wrong.status).toBe(400)
    expect(((await wrong.json()) as { error: { message: string } }).error.message).toContain('belongs to /v1/event-streams/buy, not /v1/event-streams/social')
    // acme sees its own purchase only.
    const acme = await open('/v1/event-streams/buy?from=earliest', s.keys.acme)
    await acme.untilEvents(1)
    expect(acme.events.map((e) => e.record.event_id)).toEqual(['acme-p1'])
  })
})

describe('player notifications and the inbox', () => {
  it('fills the inbox from emit: player triggers; delivered messages leave it; tenants stay apart', async () => {
    const live = await open('/v1/player-notifications', s.keys.read)
    // A minute back: an event time later than the collector's receive time is clamped to it, so
    // Date.now() + 2 could arrive as + 1 (docs/events.md#event-time).
    const ts = Date.now() - 60_000
    await send(s.keys.write, [
      { event: 'level_up', user_id: 'pn-1', ts, level: 1, name: 'Dirk', event_id: 'pn-l1' },
      { event: 'level_up', user_id: 'pn-1', ts: ts + 1, level: 2, name: 'Dirk', event_id: 'pn-l2' },
      { event: 'level_up', user_id: 'pn-1', ts: ts + 2, level: 3, name: 'Dirk', event_id: 'pn-l3' },
    ])
    await live.untilEvents(2)
    expect(live.events.map((e) => [e.event, e.record.id, e.record.message, e.record.trigger])).toEqual([
      ['player-notification', 'pn-l2:level_note', 'You reached level 2, Dirk!', 'level_note'],
      ['player-notification', 'pn-l3:level_note', 'You reached level 3, Dirk!', 'level_note'],
    ])
    const held = await until('both messages in the inbox', async () => {
      const m = await inbox(s.keys.read, 'pn-1')
      return m.length === 2 ? m : null
    })
    expect(held).toEqual([
      { id: 'pn-l2:level_note', trigger: 'level_note', message: 'You reached level 2, Dirk!', event: 'level_up', event_id: 'pn-l2', at: ts + 1 },
      { id: 'pn-l3:level_note', trigger: 'level_note', message: 'You reached level 3, Dirk!', event: 'level_up', event_id: 'pn-l3', at: ts + 2 },
    ])
    expect(await inbox(s.keys.acme, 'pn-1')).toEqual([])
    const mark = (key: string, ids: unknown) =>
      fetch(`${s.url}/v1/profiles/pn-1/inbox/delivered`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: JSON.stringify({ ids }) })
    expect((await mark(s.keys.read, ['pn-l2:level_note'])).status).toBe(403)
    expect((await mark(s.keys.acme, ['pn-l2:level_note'])).status).toBe(200)
    expect((await inbox(s.keys.read, 'pn-1')).length).toBe(2)
    expect((await mark(s.keys.write, undefined)).status).toBe(400)
    expect(
      (
        await mark(
          s.keys.write,
          Array.from({ length: 501 }, (_, i) => `x${i}`),
        )
      ).status,
    ).toBe(400)
    const ok = await mark(s.keys.write, ['pn-l2:level_note', 'nope'])
    expect(await ok.json()).toEqual({ delivered: 1 })
    expect((await inbox(s.keys.read, 'pn-1')).map((m) => m.id)).toEqual(['pn-l3:level_note'])
    expect((await get(s.keys.read, `/v1/profiles/pn-1/inbox?limit=0`)).status).toBe(400)
  })

  it('hands a player the messages at login and marks them delivered', async () => {
    const post = (path: string, body: unknown) => fetch(`${s.url}${path}`, { method: 'POST', headers: { ...auth(s.keys.write), 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const reg = await post('/game/players', { name: 'inbox-dirk', password: 'pw-secret-1', wealth: 100 })
    expect(reg.status).toBe(201)
    const id = ((await reg.json()) as { player: { id: string } }).player.id
    await send(s.keys.write, [{ event: 'level_up', user_id: id, ts: Date.now(), level: 5, name: 'dirk', event_id: 'pn-g1' }])
    await until('the message in the inbox', async () => (await inbox(s.keys.read, id)).length === 1)
    const login = await post('/game/login', { name: 'inbox-dirk', password: 'pw-secret-1' })
    expect(login.status).toBe(200)
    const body = (await login.json()) as { messages: Array<{ message: string }> }
    expect(body.messages.map((m) => m.message)).toEqual(['You reached level 5, dirk!'])
    expect(await inbox(s.keys.read, id)).toEqual([])
    const again = (await (await post('/game/login', { name: 'inbox-dirk', password: 'pw-secret-1' })).json()) as { messages: unknown[] }
    expect(again.messages).toEqual([])
  })

  it('skips a record on the topic that is not a player notification, and goes on', async () => {
    const p = 0
    await s.ctx.log.append(TOPICS.playerNotifications, p, [
      { key: 'default:junk', value: Buffer.from('not json') },
      { key: 'default:junk', value: Buffer.from(JSON.stringify({ tenant: 'default', user_id: 'junk', trigger: 't', at: 1, id: 'x'.repeat(2_000), message: 'm', event: 'e', event_id: 'i' })) },
      { key: 'default:ok-1', value: Buffer.from(JSON.stringify({ tenant: 'default', user_id: 'ok-1', trigger: 't', at: 1, id: 'i:t', message: 'hello', event: 'e', event_id: 'i' })) },
    ])
    await until('the good record in the inbox', async () => (await inbox(s.keys.read, 'ok-1')).length === 1)
    expect(await inbox(s.keys.read, 'junk')).toEqual([])
    const metrics = await (await get(s.keys.admin, '/metrics')).text()
    expect(metrics).toMatch(/^tagstream_inbox_messages_total\{outcome="skipped"\} 2$/m)
    // Set at the start's expiry pass: a number, before any message was held.
    expect(metrics).toMatch(/^tagstream_inbox_undelivered_messages \d+$/m)
  })

  it('erasing the person empties the inbox; the export holds the messages before', async () => {
    const ts = Date.now()
    await send(s.keys.admin, [{ event: 'level_up', user_id: 'pn-er', ts, level: 9, name: 'Eve', event_id: 'pn-e1' }])
    await until('the message in the inbox', async () => (await inbox(s.keys.read, 'pn-er')).length === 1)
    const exported = await (await get(s.keys.admin, '/v1/profiles/pn-er/export')).text()
    const lines = exported
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines.filter((l) => l.kind === 'inbox_message').map((l) => l.message)).toEqual(['You reached level 9, Eve!'])
    expect(lines.at(-1)).toMatchObject({ kind: 'end', inbox_messages: 1 })
    const del = await fetch(`${s.url}/v1/profiles/pn-er`, { method: 'DELETE', headers: auth(s.keys.admin) })
    expect(del.status).toBe(202)
    const { status_url } = (await del.json()) as { status_url: string }
    await until('the erasure done', async () => ((await (await get(s.keys.admin, status_url)).json()) as { status: string }).status === 'done', 30_000)
    expect(await inbox(s.keys.read, 'pn-er')).toEqual([])
  })
})
