import { describe, expect, it } from 'vitest'
import { decodeEvent, isEngineRecord, type TrackedEvent } from '../../src/events/index.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import {
  HttpTarget,
  LIST_PRICE,
  clickstreamEvents,
  gameRequests,
  partnerKeys,
  sendEvents,
  sendGame,
  slotsStream,
  spreadClock,
  wallClock,
  type GameRequest,
  type RawEvent,
} from '../../src/sim/index.ts'
import { auth, startTestServer, useTestServer, type TestServer } from '../api/harness.ts'

const END = Date.UTC(2026, 10, 1, 12)

async function storedEvents(server: TestServer): Promise<TrackedEvent[]> {
  const out: TrackedEvent[] = []
  for (let p = 0; p < server.ctx.partitions; p++) {
    for (let offset = 0; ;) {
      const records = await server.ctx.log.read(TOPICS.events, p, offset, { maxRecords: 10_000 })
      if (records.length === 0) break
      for (const r of records) if (!isEngineRecord(r.value)) out.push(decodeEvent(r.value))
      offset = records.at(-1)!.offset + 1
    }
  }
  return out
}

/** An event as the generator made it, from what the log stored. */
function asSent(e: TrackedEvent): RawEvent {
  return { event: e.event, user_id: e.user_id, ts: e.ts, ...(e.properties as Record<string, string | number>) }
}

const byIdentity = (a: RawEvent, b: RawEvent) => a.ts - b.ts || a.user_id.localeCompare(b.user_id) || a.event.localeCompare(b.event)

describe('sending events over HTTP', () => {
  const server = useTestServer()

  it('stores exactly the generated clickstream, each partner in the tenant of its key', async () => {
    const n = 3_000
    const generated = () => clickstreamEvents({ seed: 4, partners: 3, users: 200 }, spreadClock(END, 3_600_000, n))
    const target = new HttpTarget(server.url, 4)
    const keyFor = partnerKeys(3, [server.keys.write, server.keys.acme])
    const stats = await sendEvents(generated(), { target, keyFor, batch: 250, concurrency: 4, rate: 0, limit: n })
    target.close()
    expect(stats).toMatchObject({ sent: n, accepted: n, rejected: 0, retries: 0 })

    const expected: RawEvent[] = []
    const it = generated()
    for (let i = 0; i < n; i++) expected.push(it.next().value as RawEvent)
    const stored = await storedEvents(server)
    expect(stored.map(asSent).sort(byIdentity)).toEqual([...expected].sort(byIdentity))
    // Partners 0 and 2 send with the default tenant's key, partner 1 with acme's.
    for (const e of stored) expect(e.tenant).toBe(e.properties.partner_name === 'modanisa' ? 'acme' : 'default')

    const buyer = expected.find((e) => e.event === 'purchase' && e.partner_name === 'modanisa')!
    const res = await fetch(`${server.url}/v1/profiles/${buyer.user_id}`, { headers: auth(server.keys.acme) })
    const profile = (await res.json()) as { traits: Record<string, unknown> }
    expect(profile.traits).toMatchObject({ country: buyer.country, language: buyer.language })
    expect(profile.traits.total_purchases).toBeGreaterThanOrEqual(buyer.amount as number)
  })

  it('paces sending at the rate and stamps live events with the time they are sent', async () => {
    const target = new HttpTarget(server.url, 2)
    const before = Date.now()
    const t0 = performance.now()
    const stats = await sendEvents(slotsStream({ users: 50, spins: 10_000, seed: 3 }, wallClock), {
      target,
      keyFor: () => server.keys.write,
      batch: 100,
      concurrency: 2,
      rate: 400,
      limit: 600,
      lingerMs: 50,
    })
    const seconds = (performance.now() - t0) / 1000
    target.close()
    expect(stats.accepted).toBe(600)
    // 600 events at 400/s: the last is due 1.5 s after the first.
    expect(seconds).toBeGreaterThan(1.4)
    expect(seconds).toBeLessThan(4)
    // Batches left before they were full: the linger sent the events while they were fresh.
    expect(stats.requests).toBeGreaterThan(6)
    const live = (await storedEvents(server)).filter((e) => e.event === 'spin' || e.event === 'in_app_purchase')
    expect(live).toHaveLength(600)
    for (const e of live) expect(e.ts).toBeGreaterThanOrEqual(before)
  })

  it("stops on an error answer with the server's message", async () => {
    const target = new HttpTarget(server.url, 1)
    const run = sendEvents(slotsStream({ users: 5, spins: 100 }), { target, keyFor: () => 'no-such-key', batch: 10, concurrency: 1, rate: 0 })
    await expect(run).rejects.toThrow(/answered 401 unauthorized: unknown API key/)
    target.close()
    const nowhere = new HttpTarget('http://127.0.0.1:9', 1)
    await expect(sendEvents(slotsStream({ users: 5, spins: 100 }), { target: nowhere, keyFor: () => 'k', batch: 10, concurrency: 1, rate: 0 })).rejects.toThrow(
      /cannot reach http:\/\/127.0.0.1:9\/v1\/events: ECONNREFUSED/,
    )
    nowhere.close()
    expect(() => new HttpTarget('ftp://x', 1)).toThrow('--url must be an http(s) URL')
  })

  it('stops generating when aborted and lets the requests in flight finish', async () => {
    const target = new HttpTarget(server.url, 2)
    const abort = new AbortController()
    setTimeout(() => abort.abort(), 300)
    const stats = await sendEvents(clickstreamEvents({ seed: 8 }, wallClock), { target, keyFor: () => server.keys.write, batch: 50, concurrency: 2, rate: 500, signal: abort.signal })
    target.close()
    expect(stats.sent).toBeGreaterThan(0)
    expect(stats.accepted).toBe(stats.sent)
  })
})

describe('sending under backpressure', () => {
  // At most one request in flight: concurrent ones get 429 and are retried after Retry-After.
  const server = useTestServer({ backpressure: { maxEngineLag: 2_000_000, maxInflightBytes: 1, retryAfterSeconds: 0 } })

  it('retries 429 answers until every event is stored', async () => {
    const target = new HttpTarget(server.url, 4)
    const stats = await sendEvents(slotsStream({ users: 100, spins: 4_000, seed: 5 }), { target, keyFor: () => server.keys.write, batch: 100, concurrency: 4, rate: 0 })
    target.close()
    expect(stats.retries).toBeGreaterThan(0)
    expect(stats.accepted).toBe(stats.sent)
    expect((await storedEvents(server)).length).toBe(stats.sent)
  })
})

describe('playing the game over HTTP', () => {
  it("ends every player exactly where the generator's model says, at any concurrency", async () => {
    const server = await startTestServer()
    try {
      const n = 240
      const it = gameRequests({ players: 12, sessions: 6, seed: 2 })
      const requests: GameRequest[] = Array.from({ length: n }, () => it.next().value as GameRequest)
      const target = new HttpTarget(server.url, 4)
      const stats = await sendGame(requests.values(), { target, key: server.keys.write, concurrency: 4, rate: 0 })
      target.close()
      expect(stats).toMatchObject({ sent: n, requests: n, accepted: n, unexpected: 0 })
      expect(stats.refused).toBe(requests.filter((r) => r.expect === 'insufficient_funds' || r.expect === 'already_member').length)

      // Wealth left = starting wealth − what the approved calls cost, player by player.
      const spent = new Map<string, number>()
      const start = new Map<string, number>()
      for (const r of requests) {
        if (r.path === '/game/players') start.set(r.player, Math.round(Number(r.body.wealth) * 100))
        if (r.expect !== 'ok' || r.path === '/game/login') continue
        const item = r.path.split('/').at(-1)!
        const cost = r.body.cost ?? (r.path.startsWith('/game/purchase/') ? LIST_PRICE[item]! : 0)
        spent.set(r.player, (spent.get(r.player) ?? 0) + Math.round(Number(cost) * 100))
      }
      for (const [player, cents] of start) {
        const res = await fetch(`${server.url}/game/players/${player}`, { headers: auth(server.keys.read) })
        const body = (await res.json()) as { player: { wealth: number } }
        expect(Math.round(body.player.wealth * 100)).toBe(cents - (spent.get(player) ?? 0))
      }

      // One event per call, carrying the Host header the player sent.
      const events = await storedEvents(server)
      expect(events).toHaveLength(n)
      const hostOf = new Map(requests.map((r) => [r.player, r.host]))
      for (const e of events) expect(e.properties.host).toBe(hostOf.get(e.user_id))
      expect(new Set(events.map((e) => e.event))).toEqual(new Set(['player_created', 'login', 'purchase', 'join_guild', 'join_team']))

      // A second run of the same calls against the same server: registrations are refused as duplicates, nothing fails.
      const again = await sendGame(requests.slice(0, 30).values(), { target: new HttpTarget(server.url, 2), key: server.keys.write, concurrency: 2, rate: 0 })
      expect(again.refused).toBeGreaterThan(0)
      expect(again.requests).toBe(30)
    } finally {
      await server.close()
    }
  })
})
