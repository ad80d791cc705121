/**
 * The streams end to end on the real server (collector, embedded log, engine thread): events in
 * over POST /v1/events, segment changes and notifications out over SSE, resumed after a disconnect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Tails, type Tail } from './sse-tail.ts'
import { auth, startTestServer, type TestServer } from './harness.ts'

let s: TestServer
const tails = new Tails(() => s.url)
let userSeq = 0

beforeAll(async () => {
  // TAGSTREAM_SSE_HEARTBEAT_MS=150 in `serve`.
  s = await startTestServer({ sseHeartbeatMs: 150 })
})
afterAll(async () => {
  tails.closeAll()
  await s?.close()
})

const open = (path: string, key: string, headers: Record<string, string> = {}): Promise<Tail> => tails.open(path, key, headers)

async function send(key: string, events: Array<Record<string, unknown>>): Promise<void> {
  const res = await fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: JSON.stringify(events) })
  expect(res.status, await res.clone().text()).toBe(200)
}

/** Three spins: enough to enter `spinner` (count(spin, 1h) >= 3). */
function spins(user: string): Array<Record<string, unknown>> {
  const ts = Date.now()
  return [0, 1, 2].map((i) => ({ event: 'spin', user_id: user, ts: ts + i }))
}

function newUser(): string {
  return `e2e-${userSeq++}`
}

/** Waits until the engine has appended `n` more segment changes than `from` (all partitions, all tenants). */
async function changesAppended(from: number, n: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while ((await totalChanges()) < from + n) {
    if (Date.now() > deadline) throw new Error(`the engine did not emit ${n} segment changes in ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

async function totalChanges(): Promise<number> {
  let n = 0
  for (let p = 0; p < s.ctx.partitions; p++) n += (await s.ctx.log.offsets('segment-changes', p)).end
  return n
}

describe('SSE streams, end to end', () => {
  it('needs a key with the read scope', async () => {
    expect((await fetch(`${s.url}/v1/segment-changes`)).status).toBe(401)
    expect((await fetch(`${s.url}/v1/notifications`)).status).toBe(401)
    expect((await fetch(`${s.url}/v1/segment-changes`, { headers: auth(s.keys.write) })).status).toBe(403)
  })

  it('refuses a malformed cursor with 400 invalid_cursor', async () => {
    const res = await fetch(`${s.url}/v1/segment-changes`, { headers: { ...auth(s.keys.read), 'last-event-id': 'v1.s.0.0' } })
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({
      error: { code: 'invalid_cursor', message: 'cursor "v1.s.0.0" has 2 partition offsets; this stream has 4 partitions', field: 'Last-Event-ID' },
    })
    const q = await fetch(`${s.url}/v1/notifications?from=nope`, { headers: auth(s.keys.read) })
    expect(q.status).toBe(400)
    expect(((await q.json()) as { error: { code: string } }).error.code).toBe('invalid_cursor')
  })

  it('streams a user entering a segment, and resumes after a disconnect with exactly the missed changes', async () => {
    const first = await open('/v1/segment-changes', s.keys.read)
    const a = newUser()
    await send(s.keys.write, spins(a))
    await first.until(`${a} entering`, () => first.events.length >= 1)
    const [entered] = first.events
    expect(entered!.event).toBe('segment-change')
    expect(entered!.record).toMatchObject({ segment: 'spinner', tenant: 'default', user_id: a, change: 'entered', version: 1, values: { 'count(spin, 1h)': 3 } })
    expect(typeof entered!.record.partition).toBe('number')
    expect(typeof entered!.record.offset).toBe('number')
    const seen = first.lastEventId
    first.close()

    const before = await totalChanges()
    const missed = Array.from({ length: 6 }, newUser)
    for (const u of missed) await send(s.keys.write, spins(u))
    await changesAppended(before, missed.length)

    const back = await open('/v1/segment-changes', s.keys.read, { 'last-event-id': seen })
    await back.until('the missed changes', () => back.events.length >= missed.length)
    // Anything more would be a repeat: give it time to show up.
    await new Promise((r) => setTimeout(r, 200))
    expect(back.events.map((e) => e.record.user_id).sort()).toEqual([...missed].sort())
    expect(back.events.every((e) => e.record.change === 'entered')).toBe(true)

    // And after the resumed stream's last id, nothing old again: only what happens next.
    const last = back.lastEventId
    back.close()
    const again = await open(`/v1/segment-changes?from=${encodeURIComponent(last)}`, s.keys.read)
    const next = newUser()
    await send(s.keys.write, spins(next))
    await again.until('the next change', () => again.events.length >= 1)
    await new Promise((r) => setTimeout(r, 100))
    expect(again.events.map((e) => e.record.user_id)).toEqual([next])
  })

  it("shows the acme key only acme's changes, even for the same user id", async () => {
    const mine = await open('/v1/segment-changes', s.keys.read)
    const acme = await open('/v1/segment-changes', s.keys.acme)
    const user = newUser()
    await send(s.keys.acme, spins(user))
    await send(s.keys.write, spins(user))
    await acme.until('acme change', () => acme.events.length >= 1)
    await mine.until('default change', () => mine.events.length >= 1)
    await new Promise((r) => setTimeout(r, 200))
    expect(acme.events.map((e) => [e.record.tenant, e.record.user_id])).toEqual([['acme', user]])
    expect(mine.events.map((e) => [e.record.tenant, e.record.user_id])).toEqual([['default', user]])
  })

  it('filters by segment and streams trigger notifications', async () => {
    const buyers = await open('/v1/segment-changes?segment=buyer', s.keys.read)
    const carts = await open('/v1/notifications?trigger=cart_push', s.keys.read)
    const user = newUser()
    const ts = Date.now()
    await send(s.keys.write, [...spins(user), { event: 'purchase', user_id: user, ts, amount: 20 }, { event: 'add_to_cart', user_id: user, ts, cart_amount: 80 }])
    await buyers.until('buyer change', () => buyers.events.length >= 1)
    await carts.until('cart notification', () => carts.events.length >= 1)
    await new Promise((r) => setTimeout(r, 150))
    expect(buyers.events.map((e) => [e.record.segment, e.record.user_id])).toEqual([['buyer', user]])
    expect(carts.events[0]!.event).toBe('notification')
    expect(carts.events[0]!.id).toMatch(/^v1\.n\./)
    expect(carts.events[0]!.record).toMatchObject({ trigger: 'cart_push', tenant: 'default', user_id: user, event: 'add_to_cart', properties: { cart_amount: 80 } })
    // Heartbeats every 150 ms here: wait for one rather than assume the timer ran within the 150 ms
    // above (on a loaded machine it once had not: the test had taken 181 ms in all).
    await carts.until('a keep-alive comment', () => carts.frames.some((f) => f.comments.includes('keep-alive')))
  })

  it('delivers a segment change within milliseconds of the ingest request', async () => {
    tails.closeAll()
    const t = await open('/v1/segment-changes', s.keys.read)
    const latencies: number[] = []
    for (let i = 0; i < 60; i++) {
      const user = newUser()
      const t0 = performance.now()
      await send(s.keys.write, spins(user))
      await t.until(`change ${i + 1}`, () => t.events.length > i)
      latencies.push(performance.now() - t0)
    }
    latencies.sort((a, b) => a - b)
    const q = (f: number) => latencies[Math.min(latencies.length - 1, Math.floor(f * latencies.length))]!
    console.log(`POST /v1/events -> segment change over SSE: p50 ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms, max ${q(1).toFixed(1)} ms`)
    // Two fsyncs are on this path (the events, then the engine's outputs): their latency on the test
    // machine's disk dominates the tail, so only the median is held to the 100 ms target here.
    expect(q(0.5)).toBeLessThan(100)
    expect(q(1)).toBeLessThan(1000)
  })
})
