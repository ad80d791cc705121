import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { engineOptions } from '../../src/engine/engine-options.ts'
import { prepareRules } from '../../src/engine/engine-rules.ts'
import { PartitionEngine } from '../../src/engine/partition-engine.ts'
import { PartitionWorker } from '../../src/engine/partition-worker.ts'
import type { SegmentChange } from '../../src/engine/records.ts'
import { parseRulesYaml } from '../../src/rules/index.ts'
import { clockRecordTime, decodeEvent, isClockRecord, validateEvent } from '../../src/events/index.ts'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { TOPICS, type EventLog } from '../../src/log/event-log.ts'
import { KafkaEventLog } from '../../src/log/kafka/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { readRange } from '../../src/log/read-range.ts'
import { EmbeddedStateStore } from '../../src/state/embedded/state-store.ts'
import { dropTopics, TEST_BROKER as BROKER } from '../support/kafka-topics.ts'

const RULES = 'segments:\n  busy:\n    when: count(spin, 2s) >= 3\n    keep: 1s\n'
const options = engineOptions()
const rules = prepareRules(parseRulesYaml(RULES), options)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Adapter {
  name: string
  open(): Promise<EventLog>
  cleanup(): Promise<void>
}

const root = mkdtempSync(join(tmpdir(), 'tagstream-clock-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const embedded = (): Adapter => {
  const dir = join(root, randomUUID())
  return { name: 'embedded', open: async () => (await openEventLog(join(dir, 'log'), { partitions: 1 })).log, cleanup: async () => undefined }
}

const kafka = (): Adapter => {
  const prefix = `clock-${randomUUID().slice(0, 8)}-`
  return {
    name: 'Kafka',
    open: async () => {
      const log = await KafkaEventLog.open(`kafka://${BROKER}?prefix=${prefix}&clientId=tagstream-test`)
      for (const t of Object.values(TOPICS)) await log.createTopic(t, { partitions: 1 })
      return log
    },
    cleanup: () => dropTopics(prefix),
  }
}

async function changesIn(log: EventLog): Promise<SegmentChange[]> {
  const { end } = await log.offsets(TOPICS.segmentChanges, 0)
  return (await readRange(log, TOPICS.segmentChanges, 0, 0, end)).map((r) => JSON.parse(Buffer.from(r.value).toString()) as SegmentChange)
}

/**
 * Live mode: a quiet partition's clock follows the wall clock through clock records in its own
 * events log, on both log adapters; and because the records are in the log, a second engine
 * reading the same log from scratch, with no clock of its own, writes the same changes.
 */
describe.each([
  ['embedded', embedded],
  ['Kafka', kafka],
] as const)('idle time on the %s log', (name, make) => {
  beforeAll(() => {
    if (name !== 'Kafka') return
    const startError = inject('kafkaStartError')
    if (startError) throw new Error(startError)
  })

  it('takes a user out of a 2s window (keep 1s) with no other traffic, on time, and a replay of the log agrees', async () => {
    const adapter = make()
    const log = await adapter.open()
    const store = EmbeddedStateStore.open(join(root, randomUUID()))
    try {
      const now = Date.now()
      const events = [0, 10, 20].map((d) => {
        const v = validateEvent({ event: 'spin', user_id: 'solo', ts: now + d }, { receivedAt: now + d })
        if (!v.ok) throw new Error(v.error.reason)
        return v.event
      })
      await appendEvents(log, events, 1)
      const live = new PartitionWorker(log, store, rules, options, 0, { namespace: 'engine', checkpointIntervalMs: 200, batchSize: 5_000, pollWaitMs: 50, clockTickMs: 100, clockMarginMs: 200 })
      await live.restore()
      // The window holds the spins until the start of the bucket 2s after the first (16 ms buckets);
      // the exit is due 1s (keep) after that, and a clock record may lag it by the margin and a tick.
      const slidOut = (Math.floor(now / 16) + 125) * 16
      const due = slidOut + 1_000
      let exitSeenAt = 0
      const deadline = Date.now() + 15_000
      while (Date.now() < deadline) {
        await live.poll()
        await live.flushOutputs()
        const got = await changesIn(log)
        if (got.some((c) => c.change === 'exited')) {
          exitSeenAt = Date.now()
          break
        }
        await sleep(20)
      }
      await live.checkpoint()
      const got = await changesIn(log)
      expect(got.map((c) => [c.user_id, c.change, c.at])).toEqual([
        ['solo', 'entered', now + 20],
        ['solo', 'exited', due],
      ])
      expect(exitSeenAt - due).toBeLessThan(200 + 100 + 1_500)
      const { end } = await log.offsets(TOPICS.events, 0)
      const clocks = (await readRange(log, TOPICS.events, 0, 0, end)).filter((r) => isClockRecord(r.value))
      expect(clocks.length).toBeGreaterThan(0)

      // The log is the whole input: an engine reading it from the start, with no clock of its own,
      // moves its clock at the clock records and writes the same changes, record for record.
      const again = new PartitionEngine(rules, options)
      const regenerated: SegmentChange[] = []
      for (const r of await readRange(log, TOPICS.events, 0, 0, end)) {
        const b = Buffer.from(r.value)
        if (isClockRecord(b)) again.advanceTo(clockRecordTime(b))
        else again.process(decodeEvent(b), r.offset)
        regenerated.push(...again.drainOutputs().changes)
      }
      expect(regenerated).toEqual(got)
      expect(again.watermark).toBe(live.engine.watermark)
    } finally {
      await store.close()
      await log.close()
      await adapter.cleanup()
    }
  })
})
