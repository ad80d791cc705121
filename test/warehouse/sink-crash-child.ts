// Runs the warehouse sink over an existing log with small, time-driven flushes until it has caught up;
// the parent test SIGKILLs it at random moments and compares with an uninterrupted run. Each flush is
// announced, so the parent can aim its kills into the run however fast the machine is.
import { openEventLog } from '../../src/log/open-log.ts'
import { WarehouseSink } from '../../src/warehouse/sink/index.ts'

const [logDir, root, flushRows] = process.argv.slice(2)
const { log } = await openEventLog(logDir!)
const sink = new WarehouseSink(log, root!, { flushRows: Number(flushRows), batchSize: 97 })
await sink.open()
process.stdout.write('started\n')
// Flushes cut at the end of what was read every few polls, so cuts differ from run to run.
let polls = 0
while (await sink.behind()) {
  await sink.poll()
  if (++polls % (1 + Math.floor(Math.random() * 4)) === 0) {
    await sink.flush()
    process.stdout.write('flushed\n')
  }
}
await sink.flush()
await sink.close()
await log.close()
process.stdout.write('done\n')
