import { join } from 'node:path'
import { pino } from 'pino'
import { engineOptions, type EngineOptions } from '../../src/engine/engine-options.ts'
import { prepareRules } from '../../src/engine/engine-rules.ts'
import { DEFAULT_WORKER_OPTIONS, PartitionWorker } from '../../src/engine/partition-worker.ts'
import type { EventLog } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { parseRulesYaml } from '../../src/rules/index.ts'
import { EmbeddedStateStore } from '../../src/state/embedded/state-store.ts'

/** One partition's embedded log and store under `dir`, and a worker over them restored from its checkpoint (clock records off). */
export async function singlePartition(
  dir: string,
  rulesYaml: string,
  options: Partial<EngineOptions> = {},
): Promise<{ log: EventLog; store: EmbeddedStateStore; worker: () => Promise<PartitionWorker> }> {
  const log = (await openEventLog(join(dir, 'log'), { partitions: 1, retentionCheckMs: 0 })).log
  const store = EmbeddedStateStore.open(join(dir, 'state'))
  const o = engineOptions(options)
  const rules = prepareRules(parseRulesYaml(rulesYaml), o)
  return {
    log,
    store,
    worker: async () => {
      const w = new PartitionWorker(log, store, rules, o, 0, { ...DEFAULT_WORKER_OPTIONS, clockTickMs: 0 }, pino({ level: 'silent' }))
      await w.restore()
      return w
    },
  }
}
