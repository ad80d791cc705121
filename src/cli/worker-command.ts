import type { Command } from 'commander'
import { addSetting } from '../config/commander-options.ts'
import { SETTINGS } from '../config/settings.ts'
import type { GlobalOptions } from './options.ts'
import type { WorkerFlags } from './worker.ts'

/**
 * `tagstream worker`: the command and its flags. What it runs (./worker.ts: the engine, both log
 * adapters, Postgres, DuckDB for backfills) loads when it runs: imported by every command's start,
 * it made `tagstream --help` take 0.6–0.7 s instead of 0.25.
 */
export function registerWorker(program: Command): void {
  const worker = program.command('worker').description("run the engine as one of a group of worker processes sharing the partitions through Kafka's consumer-group protocol (docs/deployment.md)")
  // The flags' text is kept as typed: workerSettings parses each with its variable, flag first.
  const raw = { raw: true } as const
  addSetting(worker, SETTINGS.state, { ...raw, doc: 'postgres://host:port/db?schema=name: checkpoints and users (and, with leases, the leases)', defaultText: 'none, required' })
  addSetting(worker, SETTINGS.segments, raw)
  addSetting(worker, SETTINGS.workerId, raw)
  addSetting(worker, SETTINGS.heartbeatMs, raw)
  addSetting(worker, SETTINGS.sessionMs, raw)
  addSetting(worker, SETTINGS.leaseMs, raw)
  addSetting(worker, SETTINGS.appendMarginMs, raw)
  addSetting(worker, SETTINGS.checkpointMs, raw)
  addSetting(worker, SETTINGS.transactions, raw)
  addSetting(worker, SETTINGS.commitMs, raw)
  addSetting(worker, SETTINGS.batchSize, raw)
  addSetting(worker, SETTINGS.clockTickMs, raw)
  addSetting(worker, SETTINGS.workerWarehouse, raw)
  addSetting(worker, SETTINGS.metricsPort, raw)
  addSetting(worker, SETTINGS.metricsHost, raw)
  addSetting(worker, SETTINGS.progressMs, raw)
  worker.action(async (flags: WorkerFlags) => {
    const { workerCommand } = await import('./worker.ts')
    await workerCommand(program.opts<GlobalOptions>(), flags)
  })
}
