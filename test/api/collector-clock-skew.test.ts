import { describe, expect, it } from 'vitest'
import type { ApiKey } from '../../src/api/auth.ts'
import { decodeEvent, isEngineRecord, partitionFor, partitionKey, type TrackedEvent } from '../../src/events/index.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { TEST_KEYS, auth, useTestServer, type TestServer } from './harness.ts'
import { until } from '../support/until.ts'

/*
 * Issue 14, part 1, end to end over HTTP: a tenant whose clients' clocks run 23 hours ahead must not
 * move the clock of a partition it shares with other tenants (docs/events.md#event-time), and a
 * client whose clock is wrong but says when it sent the batch (`sent_at`) gets its events at the
 * right time.
 */

const H = 3_600_000
const RULES = `segments:
  whale:
    when: count(spin, 2h) >= 10 and sum(purchase.amount, 2h) > 10
`
const GLOBEX_KEY = 'test-globex'
/** The harness's keys and a third tenant's. */
const KEYS: ApiKey[] = [
  { key: TEST_KEYS.write, tenant: 'default', scopes: ['write'] },
  { key: TEST_KEYS.read, tenant: 'default', scopes: ['read'] },
  { key: TEST_KEYS.admin, tenant: 'default', scopes: ['write', 'read', 'admin'] },
  { key: TEST_KEYS.acme, tenant: 'acme', scopes: ['write', 'read'] },
  { key: GLOBEX_KEY, tenant: 'globex', scopes: ['write', 'read'] },
]

async function post(
  s: TestServer,
  key: string,
  body: string,
  type = 'application/json',
): Promise<{ status: number; body: { accepted?: number; rejected?: unknown[]; error?: { code: string; message: string; field?: string } } }> {
  const res = await fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(key), 'content-type': type }, body })
  return { status: res.status, body: (await res.json()) as never }
}

/** Engine counters from /metrics, as an operator sees them. */
async function engineMetrics(s: TestServer): Promise<{ processed: number; late: number; lateDropped: number }> {
  const text = await (await fetch(`${s.url}/metrics`, { headers: auth(s.keys.admin) })).text()
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN)
  return { processed: gauge('tagstream_engine_processed_events'), late: gauge('tagstream_engine_late_events'), lateDropped: gauge('tagstream_engine_late_dropped_events') }
}

/** Every event of one partition's log, clock records skipped. */
async function partitionEvents(s: TestServer, p: number): Promise<TrackedEvent[]> {
  const out: TrackedEvent[] = []
  for (let offset = 0; ;) {
    const batch = await s.ctx.log.read(TOPICS.events, p, offset)
    if (batch.length === 0) return out
    for (const r of batch) if (!isEngineRecord(r.value)) out.push(decodeEvent(r.value))
    offset = batch[batch.length - 1]!.offset + 1
  }
}

/** `count` user ids of `tenant` whose `tenant:user_id` key lands on `partition`. */
function usersOn(tenant: string, partition: number, partitions: number, prefix: string, count: number): string[] {
  const out: string[] = []
  for (let i = 0; out.length < count; i++) if (partitionFor(partitionKey(tenant, `${prefix}${i}`), partitions) === partition) out.push(`${prefix}${i}`)
  return out
}

async function segmentsOf(s: TestServer, key: string, user: string): Promise<string[] | null> {
  const res = await fetch(`${s.url}/v1/profiles/${user}`, { headers: auth(key) })
  if (res.status !== 200) return null
  return ((await res.json()) as { segments: Array<{ segment: string }> }).segments.map((x) => x.segment)
}

/** 10 spins and 2 purchases of 6: enough for `whale`. `ts(i)` stamps event i of 12. */
function whaleEvents(user: string, ts: (i: number) => number): Array<Record<string, unknown>> {
  return Array.from({ length: 12 }, (_, i) => (i < 10 ? { event: 'spin', user_id: user, ts: ts(i) } : { event: 'purchase', user_id: user, ts: ts(i), amount: 6 }))
}

describe('a tenant whose clocks run ahead, end to end', () => {
  const s = useTestServer({ keys: KEYS }, RULES)

  it("does not move the partition's clock: another tenant's user with a correct clock enters the segment at once, nothing late", async () => {
    const partitions = s.ctx.partitions
    const P = 1
    const [victim] = usersOn('default', P, partitions, 'victim-', 1) as [string]
    const acmeUsers = usersOn('acme', P, partitions, 'skewed-', 4)
    const [bystander] = usersOn('globex', P, partitions, 'bystander-', 1) as [string]

    // Globex's user, clock right, is already on the partition (within the engine's 1 s clock margin).
    expect((await post(s, GLOBEX_KEY, JSON.stringify([{ event: 'spin', user_id: bystander, ts: Date.now() - 500 }]))).body.accepted).toBe(1)

    // Acme's devices stamp everything 23 hours ahead.
    const ahead = Date.now() + 23 * H
    const skewed = Array.from({ length: 40 }, (_, i) => ({ event: 'spin', user_id: acmeUsers[i % 4], ts: ahead + i, bet: 1 }))
    expect(await post(s, TEST_KEYS.acme, JSON.stringify(skewed))).toMatchObject({ status: 200, body: { accepted: 40, rejected: [] } })

    // The default tenant's user, clock right, qualifies; then globex's. Their events are stamped
    // after acme's were received and each user's after the other's, so that with a correct clock
    // nothing here is late (the allowed lateness is 0).
    await new Promise((r) => setTimeout(r, 30))
    const t0 = Date.now()
    expect((await post(s, s.keys.write, JSON.stringify(whaleEvents(victim, (i) => t0 - 24 + i)))).body.accepted).toBe(12)
    expect((await post(s, GLOBEX_KEY, JSON.stringify(whaleEvents(bystander, (i) => t0 - 12 + i)))).body.accepted).toBe(12)

    expect(await until(`${victim} in whale`, async () => ((await segmentsOf(s, s.keys.read, victim))?.includes('whale') ? true : null), 5_000)).toBe(true)
    expect(await until(`${bystander} in whale`, async () => ((await segmentsOf(s, GLOBEX_KEY, bystander))?.includes('whale') ? true : null), 5_000)).toBe(true)
    const m = await until(
      'every event processed',
      async () => {
        const x = await engineMetrics(s)
        return x.processed >= 65 ? x : null
      },
      5_000,
    )
    expect(m).toMatchObject({ late: 0, lateDropped: 0 })

    // Acme's events are stored at their receive time, each with the time its client sent.
    const stored = (await partitionEvents(s, P)).filter((e) => e.tenant === 'acme')
    expect(stored).toHaveLength(40)
    for (const [i, e] of stored.entries()) {
      expect(e.ts).toBe(e.received_at)
      expect(e.properties).toEqual({ bet: 1, original_ts: ahead + i })
    }
  })

  it('corrects a client whose clock is an hour ahead by its sent_at: batch-level, per event, and NDJSON', async () => {
    const partitions = s.ctx.partitions
    // One partition each, none the first test's: the three users' times overlap, and with the
    // allowed lateness 0 the second and third would otherwise be late behind the first.
    const users = [0, 2, 3].map((p) => ({ p, user: usersOn('default', p, partitions, 'hour-ahead-', 1)[0]! }))
    const [batchUser, eventUser, lineUser] = users.map((u) => u.user) as [string, string, string]
    const before = await engineMetrics(s)
    const clientNow = Date.now() + H
    // Event i happened (12 − i) seconds before the batch was sent, by the client's clock.
    const ts = (i: number) => clientNow - (12 - i) * 1000
    const batch = await post(s, s.keys.write, JSON.stringify({ batch: whaleEvents(batchUser, ts), sent_at: new Date(clientNow).toISOString() }))
    expect(batch).toMatchObject({ status: 200, body: { accepted: 12, rejected: [] } })
    const perEvent = whaleEvents(eventUser, ts).map((e) => ({ ...e, sent_at: clientNow }))
    expect((await post(s, s.keys.write, JSON.stringify(perEvent))).body.accepted).toBe(12)
    const ndjson = whaleEvents(lineUser, ts)
      .map((e) => JSON.stringify({ ...e, sent_at: clientNow }))
      .join('\n')
    expect((await post(s, s.keys.write, ndjson, 'application/x-ndjson')).body.accepted).toBe(12)

    for (const { p, user } of users) {
      const mine = (await partitionEvents(s, p)).filter((e) => e.user_id === user)
      expect(
        mine.map((e) => e.received_at - e.ts),
        user,
      ).toEqual(Array.from({ length: 12 }, (_, i) => (12 - i) * 1000))
      expect(
        mine.map((e) => e.properties.original_ts),
        user,
      ).toEqual(Array.from({ length: 12 }, (_, i) => ts(i)))
      expect(mine.every((e) => !('sent_at' in e.properties))).toBe(true)
      expect(await until(`${user} in whale`, async () => ((await segmentsOf(s, s.keys.read, user))?.includes('whale') ? true : null), 5_000)).toBe(true)
    }
    const m = await until(
      'every event processed',
      async () => {
        const x = await engineMetrics(s)
        return x.processed >= before.processed + 36 ? x : null
      },
      5_000,
    )
    expect(m).toMatchObject({ late: before.late, lateDropped: before.lateDropped })
  })

  it('refuses a batch whose sent_at is not a time, and names it', async () => {
    const res = await post(s, s.keys.write, JSON.stringify({ batch: [{ event: 'spin', user_id: 'x' }], sent_at: 1_700_000_000 }))
    expect(res).toEqual({ status: 400, body: { error: { code: 'invalid_body', field: 'sent_at', message: 'sent_at: looks like epoch seconds; send epoch milliseconds or an ISO-8601 string' } } })
    const one = await post(
      s,
      s.keys.write,
      JSON.stringify([
        { event: 'spin', user_id: 'x', sent_at: 'now' },
        { event: 'spin', user_id: 'y' },
      ]),
    )
    expect(one.body).toMatchObject({ accepted: 1, rejected: [{ index: 0, field: 'sent_at', error: 'sent_at: "now" is not an ISO-8601 date-time' }] })
  })
})
