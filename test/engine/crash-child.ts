// Runs the engine over an existing log until it has caught up, checkpointing often; the parent test
// SIGKILLs it at random moments and compares with an uninterrupted run.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { engineOptions } from '../../src/engine/engine-options.ts'
import { EngineRunner } from '../../src/engine/engine-runner.ts'
import { prepareRules } from '../../src/engine/engine-rules.ts'
import { parseRulesYaml } from '../../src/engine/rules/index.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { EmbeddedStateStore } from '../../src/state/embedded/state-store.ts'

const [dir, rulesPath] = process.argv.slice(2)
const options = engineOptions()
const rules = prepareRules(parseRulesYaml(readFileSync(rulesPath!, 'utf8')), options)
const { log, partitions } = await openEventLog(join(dir!, 'log'))
const store = EmbeddedStateStore.open(join(dir!, 'state'))
const runner = await EngineRunner.create(log, store, rules, options, Array.from({ length: partitions }, (_, p) => p), {
  checkpointIntervalMs: 20,
  batchSize: 300,
})
process.stdout.write('started\n')
await runner.drain(log)
await runner.stop()
await store.close()
await log.close()
process.stdout.write('done\n')
