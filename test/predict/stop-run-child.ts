// A prediction run in its thread, as a server runs one, stopped at a moment the parent names: when
// the run reports `stage`, after `ms`. Prints the run's record as the store then has it. A run
// stopped the wrong way takes this whole process down (SIGABRT), which the parent sees.
import { join } from 'node:path'
import { RunStore } from '../../src/predict/run-store.ts'
import { runInThread } from '../../src/predict/thread/run-thread-client.ts'

const [dataDir, stage, ms, asOf] = process.argv.slice(2)
let armed = false
const stopped = new Promise<number>((resolve) => {
  const run = runInThread({ dataDir: dataDir!, logUrl: join(dataDir!, 'log'), partitions: 2, kind: 'run', asOfMs: Number(asOf), options: { seed: 1, maxTrainRows: 5_000 } }, (s) => {
    if (s !== stage || armed) return
    armed = true
    setTimeout(() => {
      const t0 = performance.now()
      void run.stop().then(() => resolve(performance.now() - t0))
    }, Number(ms))
  })
  run.done.catch(() => undefined)
})
const stopMs = await stopped
const record = new RunStore(dataDir!).list(1)[0]
process.stdout.write(JSON.stringify({ stopMs, status: record?.status, error: record?.error }) + '\n')
