/**
 * The JSON format on a real broker (docs/kafka.md, "Record formats"): what the collector writes to
 * `<prefix>events` is printed readably by Kafka's own console consumer and parsed by kafkajs as the
 * documented JSON event, and a third-party producer writing the very same bytes gets the very same
 * processing (the engine's decoder and the warehouse sink's give the same event for both records).
 */
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { resolve } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { decodeEngineRecord } from '../../src/engine/engine-record.ts'
import { decodeEvent, type TrackedEvent } from '../../src/events/index.ts'
import { appendBatch } from '../../src/ingest/append-batch.ts'
import { Deduper } from '../../src/ingest/dedupe.ts'
import { sortBody } from '../../src/ingest/pipeline.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { KafkaEventLog } from '../../src/log/kafka/event-log.ts'
import { jsonRecordEnvelope } from '../../src/warehouse/sink/poison.ts'
import { TEST_BROKER as BROKER, dropTopics } from '../support/kafka-topics.ts'

const TOOL = resolve('scripts/kafka/tool.sh')
const JVM_TIMEOUT_MS = 60_000
const prefix = `test-format-${randomUUID().slice(0, 8)}-`
const P = 2

function tool(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(TOOL, args, { encoding: 'utf8', timeout: JVM_TIMEOUT_MS - 5_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0
      done({ code, stdout, stderr: error && code === null ? `${stderr}${String(error)}` : stderr })
    })
  })
}

/** The documented JSON of a stored event: the client's form, flat, plus received_at (and id_assigned when the server made the id). */
function documented(e: TrackedEvent, assigned: boolean): Record<string, unknown> {
  return {
    event: e.event,
    user_id: e.user_id,
    ...(e.anonymous_id === undefined ? {} : { anonymous_id: e.anonymous_id }),
    ts: e.ts,
    event_id: e.event_id,
    ...(assigned ? { id_assigned: true } : {}),
    tenant: e.tenant,
    received_at: e.received_at,
    ...e.properties,
  }
}

let log: KafkaEventLog
beforeAll(async () => {
  const startError = inject('kafkaStartError')
  if (startError) throw new Error(startError)
  log = await KafkaEventLog.open(`kafka://${BROKER}?prefix=${prefix}&clientId=tagstream-test-format`)
  for (const t of Object.values(TOPICS)) await log.createTopic(t, { partitions: P })
})
afterAll(async () => {
  await log?.close()
  await dropTopics(prefix, BROKER)
})

describe('the JSON events format on Kafka', () => {
  it(
    'is printed by kafka-console-consumer and parsed by kafkajs as the documented event; a third party writing the same bytes is processed the same',
    async () => {
      const receivedAt = Date.now()
      const body = Buffer.from(
        JSON.stringify([
          { event: 'purchase', user_id: 'json-1', event_id: 'client-1', ts: receivedAt - 1_000, amount: 4.99, item: 'café crème', vip: true, coupon: null },
          { event: 'spin', user_id: 7, anonymous_id: 'device-9', bet: 2, note: 'naïve 🎰 ✓' },
        ]),
      )
      const deduper = new Deduper({ horizonMs: 3_600_000, maxEntries: 10_000 })
      const batch = sortBody(body, 'json', 'events', { tenant: 'default', receivedAt, partitions: P, maxEvents: 100, deduper, fastPath: true, eventsFormat: 'json' })
      if ('status' in batch) throw new Error(batch.message)
      expect(batch.validated).toBe(0) // the byte-level fast path wrote both
      await appendBatch(log, P, batch, deduper)

      // What the collector wrote, and what it means.
      const records = (await Promise.all(Array.from({ length: P }, async (_, p) => (await log.read(TOPICS.events, p, 0, { maxRecords: 10 })).map((r) => ({ p, r }))))).flat()
      expect(records).toHaveLength(2)
      const texts = records.map(({ r }) => Buffer.from(r.value).toString('utf8'))
      const expected = records.map(({ r }, i) => documented(decodeEvent(r.value), !texts[i]!.includes('"client-1"')))
      for (const [i, t] of texts.entries()) expect(JSON.parse(t)).toEqual(expected[i])

      // Kafka's own console consumer prints each value as it is: one JSON object a line.
      const r = await tool(['console-consumer', '--bootstrap-server', BROKER, '--topic', `${prefix}events`, '--from-beginning', '--max-messages', '2', '--isolation-level', 'read_committed'])
      expect(r.code, r.stderr).toBe(0)
      expect(
        r.stdout
          .split('\n')
          .filter((l) => l !== '')
          .sort(),
      ).toEqual([...texts].sort())

      // kafkajs, a client our users run, reads the same JSON.
      const kafka = new Kafka({ clientId: 'tagstream-test-format', brokers: [BROKER], logLevel: logLevel.NOTHING })
      const consumer = kafka.consumer({ groupId: `${prefix}kafkajs` })
      const seen: unknown[] = []
      await consumer.connect()
      try {
        await consumer.subscribe({ topic: `${prefix}events`, fromBeginning: true })
        await new Promise<void>((done, fail) => {
          consumer
            .run({
              eachMessage: async ({ message }) => {
                seen.push(JSON.parse(message.value!.toString('utf8')))
                if (seen.length === 2) done()
              },
            })
            .catch(fail)
        })
      } finally {
        await consumer.disconnect()
      }
      expect(seen).toHaveLength(2)
      for (const e of expected) expect(seen).toContainEqual(e)

      // A third-party producer writes the collector's bytes again, keyed and partitioned as ours.
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
      await producer.connect()
      try {
        await producer.send({ topic: `${prefix}events`, acks: -1, messages: records.map(({ p, r }) => ({ partition: p, key: r.key ?? null, value: Buffer.from(r.value) })) })
      } finally {
        await producer.disconnect()
      }
      for (const { p, r } of records) {
        const again = await log.read(TOPICS.events, p, r.offset + 1, { maxRecords: 10 })
        const copy = again.find((x) => Buffer.from(x.value).equals(Buffer.from(r.value)))
        expect(copy).toBeDefined()
        const decode = (x: typeof r) => decodeEngineRecord(Buffer.from(x.value), 0, x.value.length, p, x.offset, x.timestamp)
        // The engine's input: the same event, though the position and log time differ.
        expect(decode(copy!)).toEqual(decode(r))
        const sink = (x: typeof r) => jsonRecordEnvelope(Buffer.from(x.value), 0, x.value.length, { partition: p, offset: x.offset, timestamp: x.timestamp })
        expect(sink(copy!)).toEqual(sink(r))
      }
    },
    2 * JVM_TIMEOUT_MS,
  )
})
