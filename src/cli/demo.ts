import { resolve } from 'node:path'
import { partitionOfUser, validateEvent, type TrackedEvent } from '../events/index.ts'
import { appendEvents } from '../ingest/append-events.ts'
import { TOPICS } from '../log/event-log.ts'
import { openEventLog } from '../log/open-log.ts'

/**
 * A small end-to-end run on embedded storage: slot-machine events are validated, appended durably
 * to the partitioned log and read back. Grows into the full demo (server, simulators, dashboard).
 */
export async function runDemo(dataDir: string, partitions: number): Promise<void> {
  const dir = resolve(dataDir, 'demo-log')
  const { log, partitions: stored } = await openEventLog(dir, { partitions })
  partitions = stored
  try {
    const now = Date.now()
    const events: TrackedEvent[] = []
    for (let i = 0; i < 20_000; i++) {
      const user = String(1 + (i % 500))
      const raw = i % 40 === 0
        ? { event: 'in_app_purchase', user_id: user, ts: now - (i % 10_800) * 1000, amount: 4.99 }
        : { event: 'spin', user_id: user, ts: now - (i % 10_800) * 1000 }
      const v = validateEvent(raw, { receivedAt: now })
      if (v.ok) events.push(v.event)
    }
    const t0 = performance.now()
    const appended = await appendEvents(log, events, partitions)
    const ms = performance.now() - t0
    console.log(`appended ${appended.count} events durably in ${ms.toFixed(0)} ms across ${partitions} partitions`)
    for (let p = 0; p < partitions; p++) {
      const { start, end } = await log.offsets(TOPICS.events, p)
      console.log(`  events partition ${p}: offsets ${start}..${end - 1}`)
    }
    const p17 = partitionOfUser('default', '17', partitions)
    const recs = await log.read(TOPICS.events, p17, 0, { maxRecords: 100_000 })
    const mine = recs.filter((r) => r.key === 'default:17').length
    console.log(`user 17 lives on partition ${p17} (murmur2, as Kafka would place it) with ${mine} events stored`)
    console.log(`log directory: ${dir}`)
  } finally {
    await log.close()
  }
}
