/**
 * Kafka's own console tools against our broker (docs/kafka.md, "Kafka's console tools"):
 * scripts/kafka/tool.sh runs them from the jars of scripts/kafka/pom.xml. Records written by
 * kafkajs, a client our users run, are read back by kafka-console-consumer, and kafka-topics
 * describes the topic. Each tool is a JVM start (about a second here, more on a loaded machine).
 */
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { resolve } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { TEST_BROKER as BROKER, dropTopics } from '../support/kafka-topics.ts'

const TOOL = resolve('scripts/kafka/tool.sh')
const JVM_TIMEOUT_MS = 60_000
const prefix = `test-tools-${randomUUID().slice(0, 8)}-`
const topic = `${prefix}t`
const PARTITIONS = 3
const values = [
  { event: 'purchase', user_id: 'ct-1', amount: 5, currency: 'EUR', item: 'café crème' },
  { event: 'spin', user_id: 'ct-2', note: 'naïve 🎰 ✓' },
  { event: 'join_guild', user_id: 'ct-3', org: 'Eulen über Köln' },
].map((v) => JSON.stringify(v))

/** Runs scripts/kafka/tool.sh; resolves with its exit code and output whatever the code. */
function tool(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(TOOL, args, { encoding: 'utf8', timeout: JVM_TIMEOUT_MS - 5_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0
      done({ code, stdout, stderr: error && code === null ? `${stderr}${String(error)}` : stderr })
    })
  })
}

beforeAll(async () => {
  const startError = inject('kafkaStartError')
  if (startError) throw new Error(startError)
  const kafka = new Kafka({ clientId: 'tagstream-test-tools', brokers: [BROKER], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  try {
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true })).toBe(true)
  } finally {
    await admin.disconnect()
  }
  // One partition, so the console consumer prints them in this order.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  try {
    await producer.send({ topic, acks: -1, messages: values.map((value, i) => ({ key: `default:ct-${i + 1}`, value: Buffer.from(value, 'utf8'), partition: 0 })) })
  } finally {
    await producer.disconnect()
  }
}, JVM_TIMEOUT_MS)
afterAll(() => dropTopics(prefix, BROKER))

describe("Kafka's console tools (scripts/kafka/tool.sh)", () => {
  it(
    'kafka-console-consumer prints the UTF-8 JSON values kafkajs wrote, one a line, and nothing else on stdout',
    async () => {
      const r = await tool(['console-consumer', '--bootstrap-server', BROKER, '--topic', topic, '--from-beginning', '--max-messages', '3', '--isolation-level', 'read_committed'])
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toBe(values.map((v) => `${v}\n`).join(''))
      expect(r.stderr).toContain('Processed a total of 3 messages')
    },
    JVM_TIMEOUT_MS,
  )

  it(
    'kafka-topics describes the topic with its partition count',
    async () => {
      const r = await tool(['topics', '--bootstrap-server', BROKER, '--describe', '--topic', topic])
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toMatch(new RegExp(`Topic: ${topic}\\s.*PartitionCount: ${PARTITIONS}\\b`))
      expect(r.stdout.split('\n').filter((line) => /^\s+Topic: .*Partition: \d+/.test(line))).toHaveLength(PARTITIONS)
    },
    JVM_TIMEOUT_MS,
  )

  it('refuses an unknown tool name with exit 2 and a one-line usage naming the tools', async () => {
    const r = await tool(['console-eater', '--bootstrap-server', BROKER])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    const lines = r.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^usage: /)
    for (const name of ['console-consumer', 'console-producer', 'consumer-groups', 'topics', 'transactions', 'get-offsets']) expect(lines[0]).toContain(name)
  })
})
