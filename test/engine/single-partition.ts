import { join } from 'node:path'
import { pino } from 'pino'
import { engineOptions, type EngineOptions } from '../../src/engine/engine-options.ts'
import { prepareRules } from '../../src/engine/engine-rules.ts'
import { DEFAULT_WORKER_OPTIONS, PartitionWorker } from '../../src/engine/partition-worker.ts'
import { TOPICS, type AppendRecord, type EventLog } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { parseRulesYaml } from '../../src/rules/index.ts'
import { EmbeddedStateStore } from '../../src/state/embedded/state-store.ts'
import { drain } from './poison-support.ts'

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

type OnePartition = Awaited<ReturnType<typeof singlePartition>>

/**
 * The same records through two setups: `straight`, read to the end in one run; `crashed`, read to
 * `cut` and checkpointed, then (with `outputsPastCheckpoint`) read on with its outputs written but no
 * checkpoint, as a process killed before its next one, then restored by a fresh worker and read to
 * the end. The caller compares the two, and closes both.
 */
export async function straightAndCrashed(
  setup: (name: string) => Promise<OnePartition>,
  records: readonly AppendRecord[],
  cut: number,
  outputsPastCheckpoint: boolean,
  /** Sees the restored worker before it reads on. */
  restored: (w: PartitionWorker) => void = () => undefined,
): Promise<{ straight: OnePartition & { w: PartitionWorker }; crashed: OnePartition & { w: PartitionWorker } }> {
  const straight = await setup(`straight-${cut}`)
  await straight.log.append(TOPICS.events, 0, records)
  const a = await straight.worker()
  await drain(a, straight.log)
  await a.checkpoint()

  const crashed = await setup(`crashed-${cut}`)
  await crashed.log.append(TOPICS.events, 0, records.slice(0, cut))
  const b1 = await crashed.worker()
  await drain(b1, crashed.log)
  await b1.checkpoint()
  await crashed.log.append(TOPICS.events, 0, records.slice(cut))
  if (outputsPastCheckpoint) await drain(b1, crashed.log)
  const b2 = await crashed.worker()
  restored(b2)
  await drain(b2, crashed.log)
  await b2.checkpoint()
  return { straight: { ...straight, w: a }, crashed: { ...crashed, w: b2 } }
}
