/**
 * Event streams and player notifications on Kafka (docs/streams.md): `serve` on a Kafka log writes
 * each event stream to a topic of its own, as JSON a third-party consumer reads as it is. The
 * consumer here is kafkajs, a client our users run, not our adapter.
 */
import { randomUUID } from 'node:crypto'
import { Admin } from '@platformatic/kafka'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { auth, startTestServer, type TestServer } from '../api/harness.ts'
import { until } from '../support/until.ts'

const BROKER = process.env.TAGSTREAM_TEST_KAFKA ?? `127.0.0.1:${process.env.KAFKA_PORT ?? 9092}`
const prefix = `test-streams-${randomUUID().slice(0, 8)}-`
const url = `kafka://${BROKER}?prefix=${prefix}&clientId=tagstream-test`
const RULES = `
triggers:
  big_buy:
    on: purchase
    when: amount >= 100
    emit: player
    message: "Thank you for buying a {item}!"
`
let s: TestServer

beforeAll(async () => {
  const startError = inject('kafkaStartError')
  if (startError) throw new Error(startError)
  s = await startTestServer({ logUrl: url }, RULES)
})
afterAll(async () => {
  await s?.close()
  const admin = new Admin({ clientId: 'tagstream-test-cleanup', bootstrapBrokers: [BROKER] })
  const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix))
  if (mine.length > 0) await admin.deleteTopics({ topics: mine })
  await admin.close()
})

/** Every record of a topic from the beginning, as kafkajs hands them over, until `n` have come. */
async function consume(topic: string, n: number): Promise<Array<{ key: string | null; value: Record<string, unknown> }>> {
  const kafka = new Kafka({ clientId: 'third-party', brokers: [BROKER], logLevel: logLevel.NOTHING })
  const consumer = kafka.consumer({ groupId: `third-party-${randomUUID()}` })
  const got: Array<{ key: string | null; value: Record<string, unknown> }> = []
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ message }) => {
        got.push({ key: message.key?.toString() ?? null, value: JSON.parse(message.value!.toString()) as Record<string, unknown> })
      },
    })
    await until(`${n} records of ${topic}`, () => got.length >= n, 30_000)
  } finally {
    await consumer.disconnect()
  }
  return got
}

describe('event streams on Kafka', () => {
  it('writes buy and social events to topics of their own, JSON that kafkajs reads; player notifications too', async () => {
    const ts = Date.now()
    const res = await fetch(`${s.url}/v1/events`, {
      method: 'POST',
      headers: { ...auth(s.keys.write), 'content-type': 'application/json' },
      body: JSON.stringify([
        { event: 'purchase', user_id: 'kp-1', ts, amount: 150, item: 'shield', event_id: 'kp-e1' },
        { event: 'spin', user_id: 'kp-1', ts: ts + 1 },
        { event: 'join_guild', user_id: 'kp-2', ts: ts + 2, org: 'owls', event_id: 'kp-e2' },
        { event: 'purchase', user_id: 'kp-3', ts: ts + 3, amount: 5, item: 'knife', event_id: 'kp-e3' },
      ]),
    })
    expect(res.status).toBe(200)
    const buys = await consume(`${prefix}buy-events`, 2)
    expect(buys.map((r) => [r.key, r.value.event_id, r.value.event, r.value.stream, r.value.tenant]).sort()).toEqual([
      ['default:kp-1', 'kp-e1', 'purchase', 'buy', 'default'],
      ['default:kp-3', 'kp-e3', 'purchase', 'buy', 'default'],
    ])
    expect(buys.find((r) => r.value.event_id === 'kp-e1')!.value).toMatchObject({ user_id: 'kp-1', at: ts, properties: { amount: 150, item: 'shield' } })
    const social = await consume(`${prefix}social-events`, 1)
    expect(social.map((r) => [r.value.event, r.value.user_id, r.value.properties])).toEqual([['join_guild', 'kp-2', { org: 'owls' }]])
    const notes = await consume(`${prefix}player-notifications`, 1)
    expect(notes.map((r) => r.value)).toEqual([
      { id: 'kp-e1:big_buy', tenant: 'default', user_id: 'kp-1', trigger: 'big_buy', message: 'Thank you for buying a shield!', event: 'purchase', event_id: 'kp-e1', at: ts },
    ])
    // And the inbox, filled from that topic.
    const inbox = await until('the inbox', async () => {
      const body = (await (await fetch(`${s.url}/v1/profiles/kp-1/inbox`, { headers: auth(s.keys.read) })).json()) as { messages: Array<{ message: string }> }
      return body.messages.length > 0 ? body.messages : null
    })
    expect(inbox.map((m) => m.message)).toEqual(['Thank you for buying a shield!'])
  })
})
