/**
 * The report on a real broker: a third-party producer (@platformatic/kafka's own Producer,
 * not our adapter) writes a flat JSON event without `properties`, a JSON array and random bytes
 * into the `events` topic between events our log appended. The engine (PartitionWorker on
 * KafkaEventLog) applies the flat event, dead-letters the other two with their partition and
 * offset, keeps processing, and a restart goes on from its checkpoint without stopping again.
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Producer } from '@platformatic/kafka'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { engineOptions } from '../../src/engine/engine-options.ts'
import { prepareRules } from '../../src/engine/engine-rules.ts'
import { DEFAULT_WORKER_OPTIONS, PartitionWorker } from '../../src/engine/partition-worker.ts'
import { parseRulesYaml } from '../../src/rules/index.ts'
import { encodeEvent, type TrackedEvent } from '../../src/events/index.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { KafkaEventLog } from '../../src/log/kafka/event-log.ts'
import { EmbeddedStateStore } from '../../src/state/embedded/state-store.ts'
import { dropTopics, TEST_BROKER as BROKER } from '../support/kafka-topics.ts'
import { drain, engineDeadLetters, prng } from './poison-support.ts'

const P = 2
const PARTITION = 1
const prefix = `poison-${randomUUID().slice(0, 8)}-`
const root = mkdtempSync(join(tmpdir(), 'tagstream-poison-kafka-'))
const options = engineOptions()
const rules = prepareRules(parseRulesYaml('segments:\n  buyer:\n    when: sum(purchase.amount) >= 5\n'), options)

beforeAll(() => {
  const startError = inject('kafkaStartError')
  if (startError) throw new Error(startError)
})
afterAll(async () => {
  rmSync(root, { recursive: true, force: true })
  await dropTopics(prefix)
})

let seq = 0
function purchase(user: string, amount: number): { key: string; value: Buffer; timestamp: number } {
  const now = Date.now()
  const e: TrackedEvent = { event: 'purchase', user_id: user, ts: now, event_id: `k${seq++}`, tenant: 'default', received_at: now, properties: { amount } }
  return { key: `default:${user}`, value: Buffer.from(encodeEvent(e)), timestamp: now }
}

describe('poison records on Kafka', () => {
  it('applies a third party’s flat JSON purchase, dead-letters a JSON array and random bytes, and keeps going after a restart', async () => {
    const log = await KafkaEventLog.open(`kafka://${BROKER}?prefix=${prefix}&clientId=tagstream-test`)
    for (const t of Object.values(TOPICS)) await log.createTopic(t, { partitions: P })
    const producer = new Producer({ clientId: 'third-party', bootstrapBrokers: [BROKER] })
    const store = EmbeddedStateStore.open(join(root, 'state'))
    const third = async (value: Buffer): Promise<number> => {
      const sent = await producer.send({ messages: [{ topic: `${prefix}events`, partition: PARTITION, key: Buffer.from('default:1'), value }] })
      return Number(sent.offsets![0]!.offset)
    }
    const ours = async (user: string, amount: number): Promise<number> => (await log.append(TOPICS.events, PARTITION, [purchase(user, amount)])).baseOffset
    const worker = async () => {
      const w = new PartitionWorker(log, store, rules, options, PARTITION, { ...DEFAULT_WORKER_OPTIONS, clockTickMs: 0 }, pino({ level: 'silent' }))
      await w.restore()
      return w
    }
    const random = prng(15)
    try {
      await ours('1', 1)
      // The record: flat properties, no `properties` object.
      await third(Buffer.from(JSON.stringify({ event: 'purchase', user_id: '1', amount: 5 })))
      await ours('2', 2)
      const array = await third(Buffer.from('[{"event":"purchase","user_id":"1","amount":5}]'))
      await ours('1', 1)
      const bytes = await third(Buffer.from([0x9f, ...Array.from({ length: 40 }, () => Math.floor(random() * 256))]))
      await ours('2', 3)

      const w = await worker()
      await drain(w, log)
      await w.checkpoint()
      expect(w.nextOffset).toBe(7)
      expect(w.engine.getUser('default', '1')?.totalPurchases).toBe(7)
      expect(w.engine.getUser('default', '2')?.totalPurchases).toBe(5)
      expect(w.engine.stats.poison).toBe(2)
      const letters = await engineDeadLetters(log)
      expect(letters.map((d) => ({ partition: d.partition, offset: d.offset, topic: d.topic, field: d.field }))).toEqual([
        { partition: PARTITION, offset: array, topic: 'events', field: '(event)' },
        { partition: PARTITION, offset: bytes, topic: 'events', field: '(record)' },
      ])
      expect(letters[0]!.reason).toBe('must be a JSON object')
      expect(letters[1]!.reason).toMatch(/unknown encoding \(first byte 0x9f\)/)
      // Both users entered `buyer` (sum ≥ 5): the flat JSON event counted for user 1.
      const { end } = await log.offsets(TOPICS.segmentChanges, PARTITION)
      expect(end).toBe(2)

      // A restart reads on from the checkpoint: more of the same does not stop it.
      await third(Buffer.from('{"event":"purchase","user_id":"1","amount":'))
      await third(Buffer.from(JSON.stringify({ event: 'purchase', user_id: '1', amount: 2.5 })))
      await ours('1', 0.5)
      const again = await worker()
      expect(again.nextOffset).toBe(7)
      await drain(again, log)
      expect(again.nextOffset).toBe(10)
      expect(again.engine.getUser('default', '1')?.totalPurchases).toBe(10)
      expect((await engineDeadLetters(log)).map((d) => d.offset)).toEqual([array, bytes, 7])
      await again.checkpoint()
    } finally {
      await producer.close()
      await store.close()
      await log.close()
    }
  })
})
