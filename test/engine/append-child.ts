// Appends the events of a JSON file to an embedded log and prints the events log's total end, in a
// process of its own: a test process that opened a log directory once must not open it again after
// another process wrote to it (lmdb-js may keep serving the first view), let alone append to it.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TrackedEvent } from '../../src/events/index.ts'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'

const [dir, file] = process.argv.slice(2)
const events = JSON.parse(readFileSync(file!, 'utf8')) as TrackedEvent[]
const { log, partitions } = await openEventLog(join(dir!, 'log'))
for (let i = 0; i < events.length; i += 1_000) await appendEvents(log, events.slice(i, i + 1_000), partitions)
let end = 0
for (let p = 0; p < partitions; p++) end += (await log.offsets(TOPICS.events, p)).end
await log.close()
process.stdout.write(`${end}\n`)
