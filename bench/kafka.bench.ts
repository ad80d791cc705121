import { randomUUID } from 'node:crypto'
import { Admin } from '@platformatic/kafka'
import { decodeEvent } from '../src/events/index.ts'
import { KafkaEventLog } from '../src/log/kafka/event-log.ts'
import { onBroker, type Section } from './report.ts'
import { encodedRecords, sampleEvents } from './sample-events.ts'

const BROKER = process.env.BENCH_KAFKA ?? `127.0.0.1:${process.env.KAFKA_PORT ?? 9092}`
const BATCH = 1_000
const BATCHES = Number(process.env.BENCH_KAFKA_BATCHES ?? 2_000)
const CONCURRENCY = 64
const PARTITIONS = 8

/**
 * Durable append and read throughput of the Kafka adapter against a running broker (scripts/kafka/start.sh),
 * measured like the embedded log's section: the same encoded events, batches and concurrency.
 */
export async function benchKafka(): Promise<Section> {
  return onBroker(measure)
}

async function measure(): Promise<Section> {
  const records = encodedRecords(sampleEvents(BATCH))
  const avgBytes = records.reduce((a, r) => a + r.value.length, 0) / records.length
  const prefix = `bench-${randomUUID().slice(0, 8)}-`
  const log = await KafkaEventLog.open(`kafka://${BROKER}?prefix=${prefix}&clientId=tagstream-bench`).catch((err: Error) => {
    throw new Error(`${err.message} (start a broker with scripts/kafka/start.sh, or set BENCH_KAFKA=host:port)`, { cause: err })
  })
  try {
    await log.createTopic('events', { partitions: PARTITIONS })
    let next = 0
    const t0 = performance.now()
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < BATCHES) {
          const i = next++
          await log.append('events', i % PARTITIONS, records)
        }
      }),
    )
    const appendRate = (BATCHES * BATCH) / ((performance.now() - t0) / 1000)

    // Sequential reads, as one engine partition loop does them; then all partitions at once.
    const t1 = performance.now()
    let read = 0
    for (let offset = 0; ;) {
      const got = await log.read('events', 0, offset, { maxRecords: 50_000, keys: false })
      if (got.length === 0) break
      read += got.length
      offset = got[got.length - 1]!.offset + 1
    }
    const readRate = read / ((performance.now() - t1) / 1000)

    const t2 = performance.now()
    const perPartition = await Promise.all(
      Array.from({ length: PARTITIONS }, async (_, p) => {
        let n = 0
        for (let offset = 0; ;) {
          const got = await log.read('events', p, offset, { maxRecords: 50_000, keys: false })
          if (got.length === 0) break
          for (const r of got) n += decodeEvent(r.value).ts > 0 ? 1 : 0
          offset = got[got.length - 1]!.offset + 1
        }
        return n
      }),
    )
    const decoded = perPartition.reduce((a, b) => a + b, 0)
    const parallelRate = decoded / ((performance.now() - t2) / 1000)

    return {
      title: 'Kafka event log (Apache Kafka 3.9, one local KRaft broker)',
      description:
        `${(BATCHES * BATCH).toLocaleString('en-US')} events (${avgBytes.toFixed(0)} bytes each in the binary envelope) in batches of ${BATCH}, ` +
        `${CONCURRENCY} appends in flight over ${PARTITIONS} partitions through one adapter instance; an append resolves when the broker ` +
        'acknowledges it with acks=all (idempotent producer; concurrent appends share requests). The broker runs on the same two cores ' +
        'with -Xmx512m; Kafka acknowledges from the page cache (durability by replication, not fsync), unlike the embedded log.',
      figures: [
        { name: 'durable append (acks=all)', value: appendRate, unit: 'events/s' },
        { name: 'read (records), one partition', value: readRate, unit: 'events/s' },
        { name: 'read + decode, all partitions at once', value: parallelRate, unit: 'events/s' },
      ],
    }
  } finally {
    await log.close()
    const admin = new Admin({ clientId: 'tagstream-bench-cleanup', bootstrapBrokers: [BROKER] })
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix))
    if (mine.length > 0) await admin.deleteTopics({ topics: mine })
    await admin.close()
  }
}

// Run on its own: `node --import tsx bench/kafka.bench.ts` (bench/run.ts registers it as a section).
if (import.meta.url === `file://${process.argv[1]}`) {
  const s = await benchKafka()
  for (const f of s.figures) process.stdout.write(`${f.name}: ${Math.round(f.value).toLocaleString('en-US')} ${f.unit}\n`)
}
