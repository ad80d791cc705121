import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { randomUUID } from 'node:crypto'
import { Admin } from '@platformatic/kafka'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { partitionFor } from '../../src/events/partition.ts'
import { KafkaEventLog, MAX_BATCH_BYTES } from '../../src/log/kafka/event-log.ts'
import { parseKafkaUrl } from '../../src/log/kafka/connection-url.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { runEventLogContract } from './event-log-contract.ts'
import { dropTopics as dropKafkaTopics } from '../support/kafka-topics.ts'

// The broker of scripts/kafka/start.sh; test/support/kafka-global-setup.ts starts it when it is not running.
const BROKER = process.env.TAGSTREAM_TEST_KAFKA ?? `127.0.0.1:${process.env.KAFKA_PORT ?? 9092}`
beforeAll(() => {
  const startError = inject('kafkaStartError')
  if (startError) throw new Error(startError)
})
const freshPrefix = () => `test-${randomUUID().slice(0, 8)}-`
const urlFor = (prefix: string) => `kafka://${BROKER}?prefix=${prefix}&clientId=tagstream-test`

const dropTopics = (prefix: string): Promise<void> => dropKafkaTopics(prefix, BROKER)

runEventLogContract('Kafka', () => {
  const prefix = freshPrefix()
  return {
    open: (policy) => KafkaEventLog.open(urlFor(prefix), policy),
    reopen: (policy) => KafkaEventLog.open(urlFor(prefix), policy),
    retention: true,
    cleanup: () => dropTopics(prefix),
  }
})

describe('Kafka event log', () => {
  it('lets a second instance read what the first appends, waking a waiting reader at once', async () => {
    const prefix = freshPrefix()
    const writer = await KafkaEventLog.open(urlFor(prefix))
    const reader = await KafkaEventLog.open(urlFor(prefix))
    try {
      await writer.createTopic('t', { partitions: 2 })
      await writer.append('t', 1, [{ key: 'k', value: Buffer.from('first') }])
      expect(await reader.partitionCount('t')).toBe(2)
      expect((await reader.offsets('t', 1)).end).toBe(1)
      const waiting = reader.read('t', 1, 1, { maxWaitMs: 5_000 })
      const t0 = Date.now()
      await new Promise((r) => setTimeout(r, 50))
      await writer.append('t', 1, [{ key: 'k', value: Buffer.from('second') }])
      const got = await waiting
      expect(got.map((r) => Buffer.from(r.value).toString())).toEqual(['second'])
      expect(Date.now() - t0).toBeLessThan(1_000)
    } finally {
      await reader.close()
      await writer.close()
      await dropTopics(prefix)
    }
  })

  it('reads a partition in small steps from what one fetch read ahead, and past it what was appended since', async () => {
    const prefix = freshPrefix()
    const log = await KafkaEventLog.open(urlFor(prefix))
    try {
      await log.createTopic('t', { partitions: 1 })
      const values = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: Buffer.from(`v${from + i}`) }))
      for (let b = 0; b < 3; b++) await log.append('t', 0, values(b * 100, 100))
      const seen: string[] = []
      let next = 0
      // read() and readBatch() in turns, 7 records at a time: every record once, in order, across batch ends.
      for (let step = 0; next < 300; step++) {
        if (step % 2 === 0) {
          const records = await log.read('t', 0, next, { maxRecords: 7 })
          for (const r of records) seen.push(`${r.offset}:${r.key}:${Buffer.from(r.value).toString()}`)
          next = records[records.length - 1]!.offset + 1
        } else {
          const b = await log.readBatch('t', 0, next, { maxRecords: 7 })
          for (let i = 0; i < b.count; i++) seen.push(`${b.offsets[i]}:k${b.offsets[i]}:${Buffer.from(b.chunks[b.chunkOf[i]!]!.subarray(b.starts[i], b.ends[i])).toString()}`)
          next = b.offsets[b.count - 1]! + 1
        }
      }
      expect(seen).toEqual(Array.from({ length: 300 }, (_, i) => `${i}:k${i}:v${i}`))
      await log.append('t', 0, values(300, 5))
      expect((await log.read('t', 0, 298, { maxRecords: 100 })).map((r) => r.offset)).toEqual([298, 299, 300, 301, 302, 303, 304])
    } finally {
      await log.close()
      await dropTopics(prefix)
    }
  })

  it('long-polls every partition at once: one idle partition does not delay another', async () => {
    const prefix = freshPrefix()
    const log = await KafkaEventLog.open(urlFor(prefix))
    try {
      await log.createTopic('t', { partitions: 4 })
      const idle = [0, 1, 2].map((p) => log.read('t', p, 0, { maxWaitMs: 3_000 }))
      const busy = log.read('t', 3, 0, { maxWaitMs: 3_000 })
      await new Promise((r) => setTimeout(r, 100))
      const t0 = Date.now()
      await log.append('t', 3, [{ key: 'k', value: Buffer.from('x') }])
      expect((await busy).length).toBe(1)
      expect(Date.now() - t0).toBeLessThan(1_000)
      await Promise.all(idle)
    } finally {
      await log.close()
      await dropTopics(prefix)
    }
  })

  it('fails an append the broker refuses, alone, and keeps appending at contiguous offsets', async () => {
    const prefix = freshPrefix()
    const log = await KafkaEventLog.open(urlFor(prefix))
    try {
      await log.createTopic('t', { partitions: 2 })
      await log.append('t', 0, [{ key: 'k', value: Buffer.from('before') }])
      // Over the topic's max.message.bytes (16 MiB): refused whatever the retries.
      const huge = log.append('t', 0, [{ key: 'k', value: Buffer.alloc(MAX_BATCH_BYTES + 1_000, 1) }])
      const beside = log.append('t', 1, [{ key: 'k', value: Buffer.from('other partition') }])
      await expect(huge).rejects.toThrow(/too large|MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE/i)
      expect((await beside).baseOffset).toBe(0)
      // A fresh producer id after the failure: the next batch is neither lost as a "duplicate" nor out of order.
      expect(await log.append('t', 0, [{ key: 'k', value: Buffer.from('after') }])).toEqual({ baseOffset: 1, count: 1 })
      expect((await log.read('t', 0, 0)).map((r) => Buffer.from(r.value).toString())).toEqual(['before', 'after'])
    } finally {
      await log.close()
      await dropTopics(prefix)
    }
  })

  it("stores an append over the broker's default 1 MiB batch limit whole, at one base offset", async () => {
    const prefix = freshPrefix()
    const log = await KafkaEventLog.open(urlFor(prefix))
    try {
      await log.createTopic('t', { partitions: 1 })
      // A collector request's worst case: 10,000 events of one user in one partition.
      const big = Array.from({ length: 10_000 }, (_, i) => ({ key: 'default:1', value: Buffer.alloc(300, i % 256), timestamp: 1_700_000_000_000 + i }))
      const [a, b] = await Promise.all([log.append('t', 0, big), log.append('t', 0, [{ key: 'x', value: Buffer.from('small') }])])
      expect(a).toEqual({ baseOffset: 0, count: 10_000 })
      expect(b).toEqual({ baseOffset: 10_000, count: 1 })
      const got = []
      for (let next = 0; next < 10_001;) {
        const part = await log.read('t', 0, next, { maxRecords: 4_000 })
        got.push(...part)
        next = part[part.length - 1]!.offset + 1
      }
      expect(got.map((r) => r.offset)).toEqual(Array.from({ length: 10_001 }, (_, i) => i))
      expect(got[9_999]!.timestamp).toBe(1_700_000_009_999)
    } finally {
      await log.close()
      await dropTopics(prefix)
    }
  })

  it('ends a waiting read at once on close, and refuses calls after it', async () => {
    const prefix = freshPrefix()
    const log = await KafkaEventLog.open(urlFor(prefix))
    try {
      await log.createTopic('t', { partitions: 1 })
      const waiting = log.read('t', 0, 0, { maxWaitMs: 10_000 })
      await new Promise((r) => setTimeout(r, 100))
      const t0 = Date.now()
      await log.close()
      await expect(waiting).rejects.toThrow(/closed/)
      // Not after the fetch's retries against closed clients (seconds).
      expect(Date.now() - t0).toBeLessThan(2_500)
      await expect(log.append('t', 0, [{ key: null, value: Buffer.from('x') }])).rejects.toThrow(/closed/)
    } finally {
      await log.close()
      await dropTopics(prefix)
    }
  })

  it('isolates prefixes: the same topic name under two prefixes holds different records', async () => {
    const [a, b] = [freshPrefix(), freshPrefix()]
    const la = await KafkaEventLog.open(urlFor(a))
    const lb = await KafkaEventLog.open(urlFor(b))
    try {
      await la.createTopic('t', { partitions: 1 })
      expect(await lb.partitionCount('t')).toBeNull()
      await lb.createTopic('t', { partitions: 3 })
      await la.append('t', 0, [{ key: null, value: Buffer.from('a') }])
      expect(await lb.offsets('t', 0)).toEqual({ start: 0, end: 0 })
      expect(await la.partitionCount('t')).toBe(1)
      await la.commit('g', 't', 0, 1)
      expect(await lb.committed('g', 't', 0)).toBeNull()
    } finally {
      await Promise.all([la.close(), lb.close()])
      await Promise.all([dropTopics(a), dropTopics(b)])
    }
  })

  it('creates the product topics on open with the configured partition count, stamped with append time', async () => {
    const prefix = freshPrefix()
    const { log, partitions } = await openEventLog(urlFor(prefix), { partitions: 3 })
    const admin = new Admin({ clientId: 'tagstream-test-admin', bootstrapBrokers: [BROKER] })
    try {
      expect(partitions).toBe(3)
      for (const t of Object.values(TOPICS)) expect(await log.partitionCount(t)).toBe(3)
      const [desc] = await admin.describeConfigs({ resources: [{ resourceType: 2, resourceName: `${prefix}events`, configurationKeys: ['message.timestamp.type', 'retention.ms'] }] })
      const config = Object.fromEntries((desc?.configs ?? []).map((c) => [c.name, c.value]))
      expect(config).toEqual({ 'message.timestamp.type': 'LogAppendTime', 'retention.ms': String(3 * 24 * 3_600_000) })
      // An existing log keeps its count.
      await log.close()
      const again = await openEventLog(urlFor(prefix), { partitions: 8 })
      expect(again.partitions).toBe(3)
      await again.log.close()
    } finally {
      await admin.close()
      await log.close()
      await dropTopics(prefix)
    }
  })

  it('refuses unreachable brokers and bad URLs with a precise message', async () => {
    await expect(KafkaEventLog.open('kafka://127.0.0.1:1')).rejects.toThrow(/cannot reach Kafka at 127\.0\.0\.1:1/)
    expect(() => parseKafkaUrl('kafka://')).toThrow(/host:port/)
    expect(() => parseKafkaUrl('kafka://h:9092?prefx=a')).toThrow(/unknown kafka:\/\/ option "prefx"/)
    expect(() => parseKafkaUrl('kafka://h:9092?prefix=a b')).toThrow(/prefix may hold only/)
    expect(() => parseKafkaUrl('kafka://h:9092?replication=0')).toThrow(/replication must be/)
    expect(parseKafkaUrl('kafka://a:1,b:2/?prefix=x-&clientId=c&replication=3')).toEqual({ brokers: ['a:1', 'b:2'], prefix: 'x-', clientId: 'c', replication: 3 })
  })
})

// Kafka's own Java client, from the broker's jars: its producer decides where a keyed record goes,
// and ours must agree for every key, or a user would land on different partitions depending on who
// wrote the record; its consumer must read what we write, for every other tool on the cluster.
const lib = resolve(process.env.TAGSTREAM_KAFKA_DIR ?? '.kafka', 'lib')
describe.runIf(existsSync(join(lib, '.complete')))('against the Java client', () => {
  it("puts every key on the partition Kafka's BuiltInPartitioner chooses", () => {
    const keys = ['default:1', 'default:17', 'acme:user-42', 'ü:ß', 'x', '', 'a'.repeat(300), ...Array.from({ length: 200 }, (_, i) => `t${i % 3}:${i * 7919}`)]
    const dir = mkdtempSync(join(tmpdir(), 'tagstream-murmur-'))
    try {
      writeFileSync(join(dir, 'keys.txt'), keys.join('\n'))
      const src = join(dir, 'Partitions.java')
      writeFileSync(
        src,
        `import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
public class Partitions {
  public static void main(String[] a) throws Exception {
    for (String k : Files.readString(Path.of(a[0]), StandardCharsets.UTF_8).split("\\n", -1))
      for (int p : new int[] {1, 3, 8, 12, 64}) System.out.print(BuiltInPartitioner.partitionForKey(k.getBytes(StandardCharsets.UTF_8), p) + " ");
  }
}
`,
      )
      const out = execFileSync('java', ['-cp', `${lib}/*`, src, join(dir, 'keys.txt')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      const java = out.trim().split(' ').map(Number)
      const ours = keys.flatMap((k) => [1, 3, 8, 12, 64].map((p) => partitionFor(k, p)))
      expect(java).toEqual(ours)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('writes batches a Java KafkaConsumer reads: offsets, keys, values, the ts header, append time', async () => {
    const prefix = freshPrefix()
    const log = await KafkaEventLog.open(urlFor(prefix))
    const dir = mkdtempSync(join(tmpdir(), 'tagstream-java-consumer-'))
    try {
      await log.createTopic('t', { partitions: 2 })
      await log.append('t', 1, [
        { key: 'default:17', value: Buffer.from('{"a":1}'), timestamp: 1_700_000_000_123 },
        { key: null, value: Buffer.from('no key') },
      ])
      await log.append('t', 1, [{ key: 'ü:ß', value: Buffer.from('third'), timestamp: 5 }])
      const src = join(dir, 'Consume.java')
      writeFileSync(
        src,
        `import java.time.Duration;
import java.util.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
public class Consume {
  public static void main(String[] a) {
    Properties p = new Properties();
    p.put("bootstrap.servers", a[0]);
    p.put("key.deserializer", StringDeserializer.class.getName());
    p.put("value.deserializer", StringDeserializer.class.getName());
    p.put("enable.auto.commit", "false");
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
      TopicPartition tp = new TopicPartition(a[1], 1);
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      int n = 0;
      long deadline = System.currentTimeMillis() + 20000;
      while (n < 3 && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
          Header h = r.headers().lastHeader("ts");
          String ts = h == null ? "-" : Long.toString(java.nio.ByteBuffer.wrap(h.value()).getLong());
          System.out.println(r.offset() + "\t" + r.key() + "\t" + r.value() + "\t" + ts + "\t" + r.timestampType() + "\t" + (Math.abs(System.currentTimeMillis() - r.timestamp()) < 600000));
          n++;
        }
      }
    }
  }
}
`,
      )
      const out = execFileSync('java', ['-cp', `${lib}/*`, src, BROKER, `${prefix}t`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 })
      expect(
        out
          .trim()
          .split('\n')
          .map((l) => l.split('\t')),
      ).toEqual([
        ['0', 'default:17', '{"a":1}', '1700000000123', 'LogAppendTime', 'true'],
        ['1', 'null', 'no key', '-', 'LogAppendTime', 'true'],
        ['2', 'ü:ß', 'third', '5', 'LogAppendTime', 'true'],
      ])
    } finally {
      await log.close()
      rmSync(dir, { recursive: true, force: true })
      await dropTopics(prefix)
    }
  })
})
