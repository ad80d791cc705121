/**
 * Transactions on the Kafka log (docs/kafka.md, "Transactions"), on the real broker: what a
 * transactional writer appends is seen at its commit or never, readers step over markers and
 * aborted records, and opening a writer fences every earlier one with the same id (the broker
 * refuses the old writer's appends and commit, and aborts what it had left open). kafkajs, a client
 * users run, reading with read_committed, sees exactly what our reader sees.
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { TOPICS, WriterFencedError, tokenAfter, type LogRecord } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { runSinkOnce, segmentChangesTopic } from '../../src/warehouse/sink/index.ts'
import { KafkaEventLog } from '../../src/log/kafka/event-log.ts'
import { TEST_BROKER, dropTopics } from '../support/kafka-topics.ts'

const prefix = `test-txn-${randomUUID().slice(0, 8)}-`
const url = `kafka://${TEST_BROKER}?prefix=${prefix}&clientId=tagstream-test`
const rec = (s: string) => ({ key: s, value: Buffer.from(s) })
const texts = (rs: readonly LogRecord[]) => rs.map((r) => Buffer.from(r.value).toString())

/**
 * The records of a partition once they number `n`: a commit is durable when it returns, and the
 * broker writes its markers (which move the last stable offset) a moment after.
 */
async function readWhenThere(l: KafkaEventLog, topic: string, partition: number, n: number): Promise<LogRecord[]> {
  const deadline = Date.now() + 5_000
  for (;;) {
    const got = await l.read(topic, partition, 0)
    if (got.length >= n || Date.now() > deadline) return got
    await new Promise((r) => setTimeout(r, 20))
  }
}

let log: KafkaEventLog
beforeAll(async () => {
  const startError = inject('kafkaStartError')
  if (startError) throw new Error(startError)
  log = await KafkaEventLog.open(url)
})
afterAll(async () => {
  await log?.close()
  await dropTopics(prefix)
})

/** Every record of a partition as kafkajs reads it with read_committed (its default), from the start. */
async function kafkajsRead(topic: string, partition: number, expected: number): Promise<string[]> {
  const kafka = new Kafka({ clientId: 'tagstream-test-txn', brokers: [TEST_BROKER], logLevel: logLevel.NOTHING })
  const consumer = kafka.consumer({ groupId: `${prefix}kjs-${randomUUID().slice(0, 6)}`, readUncommitted: false })
  const got: string[] = []
  await consumer.connect()
  try {
    await consumer.subscribe({ topic: `${prefix}${topic}`, fromBeginning: true })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kafkajs read ${got.length} of ${expected} records`)), 30_000)
      void consumer.run({
        eachMessage: async ({ partition: p, message }) => {
          if (p !== partition) return
          got.push(message.value?.toString() ?? '')
          if (got.length >= expected) {
            clearTimeout(timer)
            resolve()
          }
        },
      })
    })
    // Anything beyond what was expected would show within a moment.
    await new Promise((r) => setTimeout(r, 500))
  } finally {
    await consumer.disconnect()
  }
  return got
}

describe('Kafka transactions', () => {
  it('shows a transaction to readers at its commit, never an aborted one, and reads on past their markers', async () => {
    await log.createTopic('out', { partitions: 2 })
    await log.append('out', 0, [rec('plain-1')])
    const txn = await log.transactional('writer-a')
    try {
      await txn.append('out', 0, [rec('a1'), rec('a2')])
      await txn.append('out', 1, [rec('b1')])
      // Held by the broker, not yet readable: the end is the last stable offset.
      expect(texts(await log.read('out', 0, 0))).toEqual(['plain-1'])
      expect((await log.offsets('out', 0)).end).toBe(1)
      await txn.commit()
      expect(texts(await readWhenThere(log, 'out', 0, 3))).toEqual(['plain-1', 'a1', 'a2'])
      expect(texts(await readWhenThere(log, 'out', 1, 1))).toEqual(['b1'])

      await txn.append('out', 0, [rec('dropped-1'), rec('dropped-2')])
      await txn.abort()
      await txn.append('out', 0, [rec('a3')])
      await txn.commit()
      const all = await readWhenThere(log, 'out', 0, 4)
      expect(texts(all)).toEqual(['plain-1', 'a1', 'a2', 'a3'])
      // Offsets skip the markers and the aborted records; a reader goes on from its last record.
      expect(all.map((r) => r.offset)).toEqual([0, 1, 2, 7])
      const batch = await log.readBatch('out', 0, 3)
      expect(Array.from(batch.offsets.subarray(0, batch.count))).toEqual([7])

      // A reader parked at a marker, past the last record, waits for the next record instead of
      // being answered at once with nothing, and gets it when it comes.
      const end = (await log.offsets('out', 0)).end
      expect(end).toBe(9)
      const waiting = log.read('out', 0, 8, { maxWaitMs: 5_000 })
      await new Promise((r) => setTimeout(r, 100))
      await log.append('out', 0, [rec('plain-2')])
      expect(texts(await waiting)).toEqual(['plain-2'])
      expect(await kafkajsRead('out', 0, 5)).toEqual(['plain-1', 'a1', 'a2', 'a3', 'plain-2'])
    } finally {
      await txn.close()
    }
  })

  it('commits the appends issued before a commit; one issued while it is under way waits for the next', async () => {
    await log.createTopic('busy', { partitions: 1 })
    const txn = await log.transactional('writer-busy')
    try {
      void txn.append('busy', 0, [rec('first')])
      const committing = txn.commit()
      const later = txn.append('busy', 0, [rec('second')])
      await committing
      await later
      expect(texts(await readWhenThere(log, 'busy', 0, 1))).toEqual(['first'])
      await new Promise((r) => setTimeout(r, 300))
      expect(texts(await log.read('busy', 0, 0))).toEqual(['first'])
      await txn.commit()
      expect(texts(await readWhenThere(log, 'busy', 0, 2))).toEqual(['first', 'second'])
    } finally {
      await txn.close()
    }
  })

  it('lets the warehouse sink copy an output topic that ends with a commit marker, and stop there', async () => {
    // The product's topics, under this file's prefix: segment changes written in a transaction, as a worker does.
    const { log: opened } = await openEventLog(url, { partitions: 2 })
    await opened.close()
    const txn = await log.transactional('writer-sink')
    try {
      const change = (user: string, at: number) => ({
        key: `t:${user}`,
        value: Buffer.from(JSON.stringify({ segment: 'vip', tenant: 't', user_id: user, change: 'enter', at, values: {}, version: 1 })),
      })
      await txn.append(TOPICS.segmentChanges, 0, [change('u1', Date.UTC(2026, 11, 1)), change('u2', Date.UTC(2026, 11, 1, 1))])
      await txn.commit()
      await txn.append(TOPICS.segmentChanges, 0, [change('gone', Date.UTC(2026, 11, 1, 2))])
      await txn.abort()
      await readWhenThere(log, TOPICS.segmentChanges, 0, 2)
      const root = mkdtempSync(join(tmpdir(), 'tagstream-txn-sink-'))
      try {
        const result = await Promise.race([runSinkOnce(log, root, { topic: segmentChangesTopic() }), new Promise((_, fail) => setTimeout(() => fail(new Error('the sink never caught up')), 30_000))])
        expect((result as { rowsWritten: number }).rowsWritten).toBe(2)
      } finally {
        rmSync(root, { recursive: true, force: true })
      }
    } finally {
      await txn.close()
    }
  })

  it('reads past an aborted transaction larger than one fetch to the records after it', async () => {
    await log.createTopic('big', { partitions: 1 })
    const txn = await log.transactional('writer-big')
    try {
      const filler = Buffer.alloc(1_000, 120)
      await txn.append(
        'big',
        0,
        Array.from({ length: 400 }, (_, i) => ({ key: `k${i}`, value: filler })),
      )
      await txn.abort()
      await txn.append('big', 0, [rec('after')])
      await txn.commit()
      // A small read asks for 64 KiB: a fetch from 0 holds nothing but aborted records.
      const deadline = Date.now() + 5_000
      let got: LogRecord[] = []
      while (got.length === 0 && Date.now() < deadline) got = await log.read('big', 0, 0, { maxRecords: 10 })
      expect(texts(got)).toEqual(['after'])
      expect(got[0]!.offset).toBe(401)
    } finally {
      await txn.close()
    }
  })

  it('fences the earlier writer of an id when a new one opens: its open transaction is aborted and it can neither append nor commit', async () => {
    await log.createTopic('fenced', { partitions: 1 })
    const zombie = await log.transactional('writer-z')
    const other = await KafkaEventLog.open(url)
    try {
      await zombie.append('fenced', 0, [rec('z1')])
      await zombie.commit()
      await zombie.append('fenced', 0, [rec('z-open')])
      // Another process opens the same id: the broker aborts z-open and fences the zombie.
      const successor = await other.transactional('writer-z')
      try {
        expect(tokenAfter(successor.token, zombie.token)).toBe(true)
        await expect(zombie.append('fenced', 0, [rec('z-late')])).rejects.toBeInstanceOf(WriterFencedError)
        await expect(zombie.commit()).rejects.toBeInstanceOf(Error)
        await successor.append('fenced', 0, [rec('s1')])
        await successor.commit()
        expect(texts(await readWhenThere(log, 'fenced', 0, 2))).toEqual(['z1', 's1'])
      } finally {
        await successor.close()
      }
    } finally {
      await zombie.close()
      await other.close()
    }
    expect(await kafkajsRead('fenced', 0, 2)).toEqual(['z1', 's1'])
  })

  it('fences a writer whose commit comes after a successor opened, with nothing of its transaction shown', async () => {
    await log.createTopic('late', { partitions: 1 })
    const zombie = await log.transactional('writer-l')
    await zombie.append('late', 0, [rec('l1'), rec('l2')])
    const successor = await log.transactional('writer-l')
    try {
      await expect(zombie.commit()).rejects.toBeInstanceOf(WriterFencedError)
      expect(texts(await log.read('late', 0, 0))).toEqual([])
      expect((await log.offsets('late', 0)).end).toBeGreaterThan(0)
    } finally {
      await zombie.close()
      await successor.close()
    }
  })
})
