// Runs the engine over an existing log until it has caught up, checkpointing often, reporting its
// progress; the parent test SIGKILLs it at chosen points and compares with an uninterrupted run.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { engineOptions } from '../../src/engine/engine-options.ts'
import { EngineRunner } from '../../src/engine/engine-runner.ts'
import { prepareRules } from '../../src/engine/engine-rules.ts'
import { parseRulesYaml } from '../../src/rules/index.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { EmbeddedStateStore } from '../../src/state/embedded/state-store.ts'

const [dir, rulesPath, lateness] = process.argv.slice(2)
const options = engineOptions({ allowedLatenessMs: Number(lateness ?? 0) })
const rules = prepareRules(parseRulesYaml(readFileSync(rulesPath!, 'utf8')), options)
const { log, partitions } = await openEventLog(join(dir!, 'log'))
const store = EmbeddedStateStore.open(join(dir!, 'state'))
const runner = await EngineRunner.create(
  log,
  store,
  rules,
  options,
  Array.from({ length: partitions }, (_, p) => p),
  {
    checkpointIntervalMs: 20,
    batchSize: 300,
    // Fixed event times: the clock moves with events only, as in the run it is compared with.
    clockTickMs: 0,
  },
)
// Progress for the parent, which kills this process at a chosen point: events processed in all.
const progress = setInterval(() => process.stdout.write(`at ${runner.workers.reduce((n, w) => n + w.nextOffset, 0)}\n`), 2)
await runner.drain(log)
clearInterval(progress)
await runner.stop()
await store.close()
await log.close()
process.stdout.write('done\n')
