// Appends numbered batches forever, printing each acknowledgement; the parent test SIGKILLs it.
import { EmbeddedEventLog } from '../../src/log/embedded/event-log.ts'

const [dir, firstBatch] = process.argv.slice(2)
const RECORDS = 200
const PARTITIONS = 4
const log = await EmbeddedEventLog.open(dir!, { retentionCheckMs: 0 })
await log.createTopic('events', { partitions: PARTITIONS })
let batch = Number(firstBatch ?? 0)
const pad = 'x'.repeat(100)

async function writer(): Promise<never> {
  for (;;) {
    const id = batch++
    const records = Array.from({ length: RECORDS }, (_, j) => ({ key: `k${id}`, value: Buffer.from(`${id}:${j}:${pad}`) }))
    const { baseOffset, count } = await log.append('events', id % PARTITIONS, records)
    process.stdout.write(`ack ${id} ${id % PARTITIONS} ${baseOffset} ${count}\n`)
  }
}
// Several writers keep appends in flight at once, so the kill lands mid group-commit.
await Promise.all([writer(), writer(), writer(), writer()])
