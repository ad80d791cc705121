import { randomUUID } from 'node:crypto'
import { decodeBinary, decodeEngineRecord } from '../src/engine/engine-record.ts'
import { engineOptions } from '../src/engine/engine-options.ts'
import { prepareRules } from '../src/engine/engine-rules.ts'
import { PartitionEngine } from '../src/engine/partition-engine.ts'
import { CODEC, type EventsFormat, type TrackedEvent } from '../src/events/index.ts'
import { appendBatch } from '../src/ingest/append-batch.ts'
import type { IngestBatch } from '../src/ingest/batch.ts'
import { Deduper } from '../src/ingest/dedupe.ts'
import { sortBody } from '../src/ingest/pipeline.ts'
import { KafkaEventLog } from '../src/log/kafka/event-log.ts'
import { readRecordBatch } from '../src/log/read-batch.ts'
import { parseRulesYaml } from '../src/rules/index.ts'
import { planSlots, slotsEventAt } from '../src/sim/index.ts'
import { fmt, onBroker, type Figure, type Section } from './report.ts'

/*
 * The cost of the JSON format of the events log against the binary envelope (issue 23), both
 * measured in this one run, rounds alternating between them: the collector's pipeline on request
 * bodies (the byte-level fast path writing each format), ingest of the same bodies into Kafka
 * (acks=all), and the engine's decoding and processing of what was written, read back from the broker.
 */

const BROKER = process.env.BENCH_KAFKA ?? `127.0.0.1:${process.env.KAFKA_PORT ?? 9092}`
// 2M spin attempts: seed 000's event mix, about 560,000 events.
const SPINS = Number(process.env.BENCH_FORMAT_SPINS ?? 2_000_000)
const BODY_EVENTS = 1_000
const PARTITIONS = 8
const IN_FLIGHT = 16
const ROUNDS = 3
const FORMATS: readonly EventsFormat[] = ['binary', 'json']
const RULES = `segments:
  high_roller:
    when: count(spin, 2h) >= 200 and sum(in_app_purchase.amount, 2h) > 10
`

export async function benchEventsFormat(): Promise<Section> {
  return onBroker(measure)
}

/** Seed 000's events as clients POST them, in bodies of BODY_EVENTS, and the receive time after all of them. */
function bodies(): { bodies: Buffer[]; events: number; receivedAt: number } {
  const plan = planSlots({ spins: SPINS })
  const out: Buffer[] = []
  let batch: string[] = []
  for (let i = 0; i < plan.count; i++) {
    const e = slotsEventAt(plan, i)
    batch.push(JSON.stringify({ ...e, event_id: `s-${i}` }))
    if (batch.length === BODY_EVENTS) {
      out.push(Buffer.from(`[${batch.join(',')}]`))
      batch = []
    }
  }
  if (batch.length > 0) out.push(Buffer.from(`[${batch.join(',')}]`))
  return { bodies: out, events: plan.count, receivedAt: plan.options.end + 1_000 }
}

function sort(body: Buffer, format: EventsFormat, receivedAt: number, deduper: Deduper): IngestBatch {
  const b = sortBody(body, 'json', 'events', { tenant: 'default', receivedAt, partitions: PARTITIONS, maxEvents: 10_000, deduper, fastPath: true, eventsFormat: format })
  if ('status' in b) throw new Error(b.message)
  return b
}

const newDeduper = () => new Deduper({ horizonMs: 3_600_000, maxEntries: 10_000_000 })

async function measure(): Promise<Section> {
  const { bodies: list, events, receivedAt } = bodies()
  const encode: Record<string, number> = {}
  const ingest: Record<string, number> = {}
  const size: Record<string, number> = {}
  const decode: Record<string, number> = {}
  const engine: Record<string, number> = {}
  const logs: Record<string, KafkaEventLog> = {}
  try {
    for (const f of FORMATS) {
      logs[f] = await KafkaEventLog.open(`kafka://${BROKER}?prefix=bench-fmt-${f}-${randomUUID().slice(0, 8)}-&clientId=tagstream-bench`)
      await logs[f].createTopic('events', { partitions: PARTITIONS })
      await logs[f].createTopic('dead-letters', { partitions: PARTITIONS })
    }
    // The collector's pipeline alone: body bytes to records, CPU only. Best of ROUNDS, formats alternating.
    for (let round = 0; round < ROUNDS; round++) {
      for (const f of FORMATS) {
        const deduper = newDeduper()
        let bytes = 0
        const t0 = performance.now()
        for (const body of list) for (const g of sort(body, f, receivedAt, deduper).groups) for (const r of g) bytes += r.value.length
        encode[f] = Math.max(encode[f] ?? 0, events / ((performance.now() - t0) / 1000))
        size[f] = bytes / events
      }
    }
    // Into Kafka: each body sorted and appended durably, IN_FLIGHT at once (the collector's shape). Once per format: the topic keeps what it took.
    for (const f of FORMATS) {
      const deduper = newDeduper()
      let next = 0
      const t0 = performance.now()
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < list.length) {
            const body = list[next++]!
            await appendBatch(logs[f]!, PARTITIONS, sort(body, f, receivedAt, deduper), deduper)
          }
        }),
      )
      ingest[f] = events / ((performance.now() - t0) / 1000)
    }
    // The engine's side: every record read back from the broker (not timed), then decoded as the poll loop decodes it, and processed.
    const rules = prepareRules(parseRulesYaml(RULES), engineOptions())
    const records: Record<string, Array<{ b: Buffer; s: number; e: number }>> = {}
    for (const f of FORMATS) records[f] = await readAll(logs[f]!)
    for (let round = 0; round < ROUNDS; round++) {
      for (const f of FORMATS) {
        const list = records[f]!
        const t0 = performance.now()
        let n = 0
        for (const r of list) n += decodeRecord(r.b, r.s, r.e).ts > 0 ? 1 : 0
        decode[f] = Math.min(decode[f] ?? Infinity, ((performance.now() - t0) * 1e6) / n)
        const engines = Array.from({ length: PARTITIONS }, () => new PartitionEngine(rules, engineOptions()))
        const t1 = performance.now()
        for (let i = 0; i < list.length; i++) {
          const r = list[i]!
          engines[i % PARTITIONS]!.process(decodeRecord(r.b, r.s, r.e))
        }
        engine[f] = Math.min(engine[f] ?? Infinity, ((performance.now() - t1) * 1e6) / list.length)
      }
    }
  } finally {
    for (const log of Object.values(logs)) await log.close()
  }
  const figures: Figure[] = []
  const vs = (m: Record<string, number>, higherBetter: boolean) => {
    const ratio = m.json! / m.binary!
    return `json ${higherBetter ? `${fmt(100 * ratio)}% of binary's rate` : `${fmt(ratio)}× binary's time`}`
  }
  for (const f of FORMATS) figures.push({ name: `collector pipeline (fast path, ${f})`, value: encode[f]!, unit: 'events/s', notes: f === 'json' ? vs(encode, true) : 'reference' })
  for (const f of FORMATS) figures.push({ name: `ingest into Kafka, acks=all (${f})`, value: ingest[f]!, unit: 'events/s', notes: f === 'json' ? vs(ingest, true) : 'reference' })
  for (const f of FORMATS) figures.push({ name: `record size (${f})`, value: size[f]!, unit: 'bytes/event' })
  for (const f of FORMATS) figures.push({ name: `engine decode (${f})`, value: decode[f]!, unit: 'ns/event', notes: f === 'json' ? vs(decode, false) : 'reference' })
  for (const f of FORMATS) figures.push({ name: `engine decode + process (${f})`, value: engine[f]!, unit: 'ns/event', notes: f === 'json' ? vs(engine, false) : 'reference' })
  return {
    title: 'Events format: JSON vs binary',
    description: `Seed 000's event mix (${fmt(events)} events from ${fmt(SPINS)} spin attempts), POSTed as bodies of ${fmt(BODY_EVENTS)}: the collector's pipeline (byte-level fast path) writing each format, the same bodies appended to Kafka (${PARTITIONS} partitions, ${IN_FLIGHT} in flight, acks=all), and the engine decoding (and processing, seed 000's rule) what was read back. Both formats in this one run; rates best of ${ROUNDS} rounds (formats alternating), ingest once each.`,
    figures,
  }
}

/** As the engine's poll loop decodes a record: the binary envelope directly, anything else through decodeEngineRecord. */
function decodeRecord(b: Buffer, s: number, e: number): TrackedEvent {
  if (b[s] === CODEC.VERSION) {
    const v = decodeBinary(b, s, e)
    if ('poison' in v) throw new Error(v.poison.reason)
    return v
  }
  const d = decodeEngineRecord(b, s, e, 0, 0, 0)
  if (d.kind !== 'event') throw new Error(d.kind === 'poison' ? d.poison.reason : 'not an event')
  return d.event
}

/** Every record of the events topic, partition by partition, as views of the fetched buffers. */
async function readAll(log: KafkaEventLog): Promise<Array<{ b: Buffer; s: number; e: number }>> {
  const out: Array<{ b: Buffer; s: number; e: number }> = []
  for (let p = 0; p < PARTITIONS; p++) {
    const { end } = await log.offsets('events', p)
    for (let next = 0; next < end;) {
      const batch = await readRecordBatch(log, 'events', p, next, { maxRecords: 50_000 })
      if (batch.count === 0) break
      for (let i = 0; i < batch.count; i++) {
        const c = batch.chunks[batch.chunkOf[i]!]!
        out.push({ b: Buffer.from(c.buffer, c.byteOffset, c.byteLength), s: batch.starts[i]!, e: batch.ends[i]! })
      }
      next = batch.offsets[batch.count - 1]! + 1
    }
  }
  return out
}
