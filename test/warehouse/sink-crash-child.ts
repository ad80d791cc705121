// Runs the warehouse sink over an existing log with small, time-driven flushes until it has caught up;
// the parent test SIGKILLs it at random moments and compares with an uninterrupted run. Each flush is
// announced, so the parent can aim its kills into the run however fast the machine is.
import { openEventLog } from '../../src/log/open-log.ts'
import { WarehouseSink } from '../../src/warehouse/sink/index.ts'
import { compactLive } from '../../src/warehouse/sink/live-compaction.ts'

const [logDir, root, flushRows, live] = process.argv.slice(2)
// With `live`: merge after every flush as the running sink does between flushes, with the smallest
// tiers and a grace of 0 or 30 ms, so kills also land inside merges and sweeps.
const policy = { intervalMs: 0, graceMs: Math.random() < 0.5 ? 0 : 30, tierFiles: 2, tierFactor: 4, tierFloorBytes: 1, maxCurrentFiles: 6, hourMs: 3_600_000 }
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
    if (live === 'live') {
      await compactLive(root!, { policy })
      process.stdout.write('compacted\n')
    }
  }
}
await sink.flush()
// The last flush is merged too, as the running sink's next interval would: without it, whether the
// merging run ends with fewer files than the calm one depended on where the kills had fallen.
if (live === 'live') await compactLive(root!, { policy })
await sink.close()
await log.close()
process.stdout.write('done\n')
