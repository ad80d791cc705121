/**
 * `tagstream serve` on Kafka, end to end: the collector appends to Kafka, the engine thread reads it
 * back and segments, dead letters land in their topic; two collectors on the same topics put a
 * user's events on one partition whichever took the request.
 */
import { randomUUID } from 'node:crypto'
import { Admin } from '@platformatic/kafka'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { partitionOfUser } from '../../src/events/partition.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { KafkaEventLog } from '../../src/log/kafka/event-log.ts'
import { auth, startTestServer, type TestServer } from '../api/harness.ts'
import { until } from '../support/until.ts'

const BROKER = process.env.TAGSTREAM_TEST_KAFKA ?? `127.0.0.1:${process.env.KAFKA_PORT ?? 9092}`
const prefix = `test-serve-${randomUUID().slice(0, 8)}-`
const url = `kafka://${BROKER}?prefix=${prefix}&clientId=tagstream-test`
const servers: TestServer[] = []

beforeAll(async () => {
  const startError = inject('kafkaStartError')
  if (startError) throw new Error(startError)
  servers.push(await startTestServer({ logUrl: url }), await startTestServer({ logUrl: url }))
})
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()))
  const admin = new Admin({ clientId: 'tagstream-test-cleanup', bootstrapBrokers: [BROKER] })
  const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix))
  if (mine.length > 0) await admin.deleteTopics({ topics: mine })
  await admin.close()
})

async function post(s: TestServer, events: Array<Record<string, unknown>>): Promise<{ accepted: number; rejected: Array<{ index: number; field: string }> }> {
  const res = await fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(s.keys.write), 'content-type': 'application/json' }, body: JSON.stringify(events) })
  expect(res.status).toBe(200)
  return (await res.json()) as { accepted: number; rejected: Array<{ index: number; field: string }> }
}

describe('tagstream serve on Kafka', () => {
  it('accepts events durably, segments them from Kafka, and dead-letters the bad one', async () => {
    const [a] = servers
    const ts = Date.now()
    const r = await post(a!, [
      { event: 'spin', user_id: 'k-1', ts },
      { event: 'spin', user_id: 'k-1', ts: ts + 1 },
      { event: 'spin', user_id: '', ts },
      { event: 'spin', user_id: 'k-1', ts: ts + 2 },
    ])
    expect(r.accepted).toBe(3)
    expect(r.rejected).toEqual([expect.objectContaining({ index: 2, field: 'user_id' })])

    const profile = await until('the engine to put k-1 in spinner', async () => {
      const res = await fetch(`${a!.url}/v1/profiles/k-1`, { headers: auth(a!.keys.read) })
      const p = (await res.json()) as { counts?: Record<string, number>; segments?: Array<{ segment: string }> }
      return res.status === 200 && p.segments?.some((s) => s.segment === 'spinner') ? p : null
    })
    expect(profile.counts).toEqual({ spin: 3 })

    const log = await KafkaEventLog.open(url)
    try {
      const p = partitionOfUser('default', 'k-1', 4)
      expect((await log.read(TOPICS.events, p, 0)).filter((e) => e.key === 'default:k-1')).toHaveLength(3)
      const changes = await until('the segment change in Kafka', async () => {
        const got = (await log.read(TOPICS.segmentChanges, p, 0)).filter((c) => c.key === 'default:k-1')
        return got.length > 0 ? got : null
      })
      expect(JSON.parse(Buffer.from(changes[0]!.value).toString())).toMatchObject({ user_id: 'k-1', segment: 'spinner' })
      let letters = 0
      for (let q = 0; q < 4; q++) letters += (await log.offsets(TOPICS.deadLetters, q)).end
      expect(letters).toBe(1)
    } finally {
      await log.close()
    }
  })

  it('puts a user on one partition whichever collector takes the request', async () => {
    const [a, b] = servers
    const users = Array.from({ length: 20 }, (_, i) => `lb-${i}`)
    const ts = Date.now()
    await Promise.all(users.flatMap((u, i) => [post(a!, [{ event: 'tap', user_id: u, ts: ts + i }]), post(b!, [{ event: 'tap', user_id: u, ts: ts + i + 1 }])]))
    const log = await KafkaEventLog.open(url)
    try {
      const seen = new Map<string, Set<number>>()
      for (let p = 0; p < 4; p++) {
        for (const e of await log.read(TOPICS.events, p, 0, { maxRecords: 1_000 })) {
          if (!e.key?.startsWith('default:lb-')) continue
          let parts = seen.get(e.key)
          if (!parts) seen.set(e.key, (parts = new Set()))
          parts.add(p)
        }
      }
      expect(seen.size).toBe(20)
      for (const u of users) expect([...seen.get(`default:${u}`)!]).toEqual([partitionOfUser('default', u, 4)])
    } finally {
      await log.close()
    }
  })
})
